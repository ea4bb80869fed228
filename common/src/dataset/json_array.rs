//! A JSON list read from a stream element by element, each with the line it starts on, so a bad
//! element is reported where it is and, being whole JSON, can be skipped.
//!
//! Only one element is held at a time: a scanner finds where the element ends (tracking strings,
//! their escapes and the `{}` / `[]` depth), copies just its bytes, and `serde_json` parses them.

use std::io::{self, BufRead};

use serde_json::Value;

use super::field::{FieldError, json_syntax};

/// Why a list could not be started.
pub(crate) enum StartError {
    /// Reading failed.
    Io(io::Error),
    /// The stream does not start with `[`: the 1-based line of what is there instead.
    NotArray { line: usize, found: String },
}

/// One element: its 1-based start line and its 0-based index with its value, or why it could not
/// be read. After a syntax error nothing more can be delimited, so iteration ends there.
pub(crate) type Element = (usize, Result<(usize, Value), FieldError>);

/// The elements of the JSON list that `reader` holds, after its opening `[`.
pub(crate) fn elements<R: BufRead>(reader: R) -> Result<Elements<R>, StartError> {
    let mut input = Input {
        reader,
        line: 1,
        column: 0,
    };
    let not_array = |input: &Input<R>, found: String| StartError::NotArray {
        line: input.line,
        found,
    };
    if input.skip_bom().map_err(StartError::Io)? {
        return Err(not_array(&input, show_byte(0xEF)));
    }
    input.skip_ws().map_err(StartError::Io)?;
    match input.peek().map_err(StartError::Io)? {
        Some(b'[') => input.take().map_err(StartError::Io)?,
        Some(b) => return Err(not_array(&input, show_byte(b))),
        None => return Err(not_array(&input, "an empty file".to_string())),
    }
    Ok(Elements {
        input,
        element: Vec::new(),
        index: 0,
        expect: Expect::FirstOrClose,
    })
}

/// A JSON list's elements, read one at a time; see [`elements`].
pub(crate) struct Elements<R> {
    input: Input<R>,
    /// The current element's bytes (plus, after a bare scalar, the byte that ends it).
    element: Vec<u8>,
    index: usize,
    expect: Expect,
}

enum Expect {
    FirstOrClose,
    Element,
    Separator,
    Trailing,
    Done,
}

impl<R: BufRead> Elements<R> {
    /// The next element, or `None` after the last one (or after an error that ends the list).
    /// Reads no further than the element and the separator before it.
    pub fn next_element(&mut self) -> io::Result<Option<Element>> {
        loop {
            match std::mem::replace(&mut self.expect, Expect::Done) {
                Expect::Done => return Ok(None),
                Expect::FirstOrClose => {
                    self.input.skip_ws()?;
                    if self.input.peek()? == Some(b']') {
                        self.input.take()?;
                        self.expect = Expect::Trailing;
                    } else {
                        return self.element().map(Some);
                    }
                }
                Expect::Element => {
                    self.input.skip_ws()?;
                    return self.element().map(Some);
                }
                Expect::Separator => {
                    self.input.skip_ws()?;
                    let message = match self.input.peek()? {
                        Some(b',') => {
                            self.input.take()?;
                            self.expect = Expect::Element;
                            continue;
                        }
                        Some(b']') => {
                            self.input.take()?;
                            self.expect = Expect::Trailing;
                            continue;
                        }
                        Some(b) => format!("expected `,` or `]`, found {}", show_byte(b)),
                        None => "unexpected end of file, the list is not closed".to_string(),
                    };
                    let error = FieldError::record(message).in_element(self.index);
                    return Ok(Some((self.input.line, Err(error))));
                }
                Expect::Trailing => {
                    self.input.skip_ws()?;
                    if let Some(b) = self.input.peek()? {
                        let message = format!("unexpected {} after the closing `]`", show_byte(b));
                        return Ok(Some((self.input.line, Err(FieldError::record(message)))));
                    }
                }
            }
        }
    }

    /// Reads and parses the element at the current position (not whitespace).
    fn element(&mut self) -> io::Result<Element> {
        let (line, column) = (self.input.line, self.input.column + 1);
        if self.input.peek()?.is_none() {
            let error = FieldError::record("unexpected end of file, the list is not closed");
            return Ok((line, Err(error.in_element(self.index))));
        }
        self.input.read_element(&mut self.element)?;
        // Parsed as a stream, as the whole file would be: a bare scalar must be followed by
        // whitespace or punctuation, and that byte, when there is one, ends `element`.
        let mut stream = serde_json::Deserializer::from_slice(&self.element).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                let (el, ec) = (e.line(), e.column());
                let (line, column) = if el <= 1 {
                    (line, column + ec.saturating_sub(1))
                } else {
                    (line + el - 1, ec)
                };
                return Ok((line, Err(json_syntax(&e, column).in_element(self.index))));
            }
            None => {
                let error = FieldError::record("unexpected end of file, the list is not closed");
                return Ok((line, Err(error.in_element(self.index))));
            }
        };
        let index = self.index;
        self.index += 1;
        self.expect = Expect::Separator;
        Ok((line, Ok((index, value))))
    }
}

/// The reader and the line and column of its position, which only moves forward.
struct Input<R> {
    reader: R,
    /// 1-based line.
    line: usize,
    /// Bytes between the start of the line and the position.
    column: usize,
}

impl<R: BufRead> Input<R> {
    /// The next byte, not taken.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(fill(&mut self.reader)?.first().copied())
    }

    /// Takes the next byte, which [`Self::peek`] has seen.
    fn take(&mut self) -> io::Result<()> {
        let buf = fill(&mut self.reader)?;
        let n = buf.len().min(1);
        track(&mut self.line, &mut self.column, &buf[..n]);
        self.reader.consume(n);
        Ok(())
    }

    /// Drops a UTF-8 byte order mark at the start; it does not count as a column. `true` when
    /// the stream starts with only part of one (dropped too): its first byte, `0xEF`, at line 1
    /// column 1, is then what the file holds instead of a list.
    fn skip_bom(&mut self) -> io::Result<bool> {
        let mut seen = 0;
        for expected in [0xEF, 0xBB, 0xBF] {
            if self.peek()? != Some(expected) {
                break;
            }
            self.reader.consume(1);
            seen += 1;
        }
        Ok(seen > 0 && seen < 3)
    }

    /// Takes JSON whitespace.
    fn skip_ws(&mut self) -> io::Result<()> {
        loop {
            let buf = fill(&mut self.reader)?;
            let n = buf
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                .count();
            let more = n == buf.len() && n > 0;
            track(&mut self.line, &mut self.column, &buf[..n]);
            self.reader.consume(n);
            if !more {
                return Ok(());
            }
        }
    }

    /// Takes one element into `out`: a string, object or array up to its closing byte (or the
    /// end of the stream), or a bare scalar up to the byte after it, which is copied, not taken.
    fn read_element(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        let mut scan = match self.peek()? {
            Some(b'{' | b'[' | b'"') => Scan::default(),
            _ => return self.read_scalar(out),
        };
        loop {
            let buf = fill(&mut self.reader)?;
            if buf.is_empty() {
                return Ok(());
            }
            let end = buf.iter().position(|&b| scan.ends_at(b));
            let n = end.map_or(buf.len(), |i| i + 1);
            out.extend_from_slice(&buf[..n]);
            track(&mut self.line, &mut self.column, &buf[..n]);
            self.reader.consume(n);
            if end.is_some() {
                return Ok(());
            }
        }
    }

    fn read_scalar(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            let buf = fill(&mut self.reader)?;
            if buf.is_empty() {
                return Ok(());
            }
            let end = buf.iter().position(|&b| ends_scalar(b));
            let n = end.unwrap_or(buf.len());
            out.extend_from_slice(&buf[..n]);
            if let Some(&next) = end.and_then(|i| buf.get(i)) {
                out.push(next);
            }
            track(&mut self.line, &mut self.column, &buf[..n]);
            self.reader.consume(n);
            if end.is_some() {
                return Ok(());
            }
        }
    }
}

/// Where a string, object or array ends: strings (with escapes) and bracket depth.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Takes `b`; whether the value ends with it.
    fn ends_at(&mut self, b: u8) -> bool {
        if self.in_string {
            match b {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        !self.in_string && self.depth == 0
    }
}

/// Whether `b` cannot be part of a bare number or literal (`serde_json`'s end of a value).
fn ends_scalar(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'[' | b']' | b'{' | b'}' | b',' | b':'
    )
}

/// The reader's buffered bytes, refilled when empty (retrying interrupted reads); empty only at
/// the end of the stream.
fn fill<R: BufRead>(reader: &mut R) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Ok([]) => return Ok(&[]),
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    // Buffered now, so this returns the same bytes without reading; asked again only because
    // the borrow checker will not let the loop return the first answer.
    reader.fill_buf()
}

/// Moves a line and column over `bytes`.
fn track(line: &mut usize, column: &mut usize, bytes: &[u8]) {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => {
            *line += bytes.iter().filter(|&&b| b == b'\n').count();
            *column = bytes.len() - last - 1;
        }
        None => *column += bytes.len(),
    }
}

fn show_byte(b: u8) -> String {
    match b {
        b'{' => "`{` (an object: is this a json lines file?)".to_string(),
        0x21..=0x7e => format!("`{}`", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}
