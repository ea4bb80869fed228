//! A JSON list read element by element, each with the line it starts on, so a bad element is
//! reported where it is and, being whole JSON, can be skipped.

use serde_json::Value;

use super::field::{FieldError, json_syntax};

/// The file does not start with `[`.
pub(crate) struct NotArray {
    pub line: usize,
    pub found: String,
}

/// One element: its 1-based start line and its 0-based index with its value, or why it could not
/// be read. After a syntax error nothing more can be delimited, so iteration ends there.
pub(crate) type Element = (usize, Result<(usize, Value), FieldError>);

/// The elements of the JSON list in `bytes`.
pub(crate) fn elements(bytes: &[u8]) -> Result<Elements<'_>, NotArray> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut cursor = Cursor::default();
    let start = skip_ws(bytes, 0);
    cursor.advance(bytes, start);
    match bytes.get(start) {
        Some(b'[') => {}
        Some(&b) => {
            return Err(NotArray {
                line: cursor.line,
                found: show_byte(b),
            });
        }
        None => {
            return Err(NotArray {
                line: cursor.line,
                found: "an empty file".to_string(),
            });
        }
    }
    let pos = skip_ws(bytes, start + 1);
    Ok(Elements {
        bytes,
        cursor,
        pos,
        index: 0,
        expect: Expect::FirstOrClose,
    })
}

/// Iterator over a JSON list's elements; see [`elements`].
pub(crate) struct Elements<'a> {
    bytes: &'a [u8],
    cursor: Cursor,
    pos: usize,
    index: usize,
    expect: Expect,
}

enum Expect {
    FirstOrClose,
    Element,
    Trailing,
    Fail(String),
    Done,
}

impl Iterator for Elements<'_> {
    type Item = Element;

    fn next(&mut self) -> Option<Element> {
        loop {
            match std::mem::replace(&mut self.expect, Expect::Done) {
                Expect::Done => return None,
                Expect::FirstOrClose if self.bytes.get(self.pos) == Some(&b']') => {
                    self.pos += 1;
                    self.expect = Expect::Trailing;
                }
                Expect::FirstOrClose | Expect::Element => return Some(self.element()),
                Expect::Trailing => {
                    let end = skip_ws(self.bytes, self.pos);
                    if let Some(&b) = self.bytes.get(end) {
                        self.pos = end;
                        let message = format!("unexpected {} after the closing `]`", show_byte(b));
                        return Some(self.fault(FieldError::record(message)));
                    }
                }
                Expect::Fail(message) => {
                    let error = FieldError::record(message).in_element(self.index);
                    return Some(self.fault(error));
                }
            }
        }
    }
}

impl Elements<'_> {
    fn element(&mut self) -> Element {
        self.cursor.advance(self.bytes, self.pos);
        let (line, column) = (self.cursor.line, self.cursor.column());
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                let (el, ec) = (e.line(), e.column());
                let (line, column) = if el <= 1 {
                    (line, column + ec.saturating_sub(1))
                } else {
                    (line + el - 1, ec)
                };
                return (line, Err(json_syntax(&e, column).in_element(self.index)));
            }
            None => {
                let error = FieldError::record("unexpected end of file, the list is not closed");
                return (line, Err(error.in_element(self.index)));
            }
        };
        let index = self.index;
        self.index += 1;
        let after = skip_ws(self.bytes, self.pos + stream.byte_offset());
        self.pos = after;
        self.expect = match self.bytes.get(after) {
            Some(b',') => {
                self.pos = skip_ws(self.bytes, after + 1);
                Expect::Element
            }
            Some(b']') => {
                self.pos = after + 1;
                Expect::Trailing
            }
            Some(&b) => Expect::Fail(format!("expected `,` or `]`, found {}", show_byte(b))),
            None => Expect::Fail("unexpected end of file, the list is not closed".to_string()),
        };
        (line, Ok((index, value)))
    }

    /// `error` at the current position; iteration ends after it.
    fn fault(&mut self, error: FieldError) -> Element {
        self.cursor.advance(self.bytes, self.pos);
        self.expect = Expect::Done;
        (self.cursor.line, Err(error))
    }
}

/// Tracks the line and column of a position that only moves forward.
struct Cursor {
    pos: usize,
    line: usize,
    line_start: usize,
}

impl Default for Cursor {
    fn default() -> Self {
        Self {
            pos: 0,
            line: 1,
            line_start: 0,
        }
    }
}

impl Cursor {
    fn advance(&mut self, bytes: &[u8], to: usize) {
        let to = to.min(bytes.len());
        for (i, &b) in bytes
            .get(self.pos..to)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if b == b'\n' {
                self.line += 1;
                self.line_start = self.pos + i + 1;
            }
        }
        self.pos = self.pos.max(to);
    }

    /// 1-based byte column of the position.
    fn column(&self) -> usize {
        self.pos.saturating_sub(self.line_start) + 1
    }
}

fn skip_ws(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    from + rest
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .count()
}

fn show_byte(b: u8) -> String {
    match b {
        b'{' => "`{` (an object: is this a json lines file?)".to_string(),
        0x21..=0x7e => format!("`{}`", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}
