//! Reading a file as numbered lines, one at a time.

use std::io::{self, BufRead};

/// The lines of a stream with their 1-based numbers, read one at a time into a reused buffer.
/// A UTF-8 byte order mark at the start and `\r` before `\n` are dropped. A final empty line
/// (after the last `\n`) is not returned; it would be blank.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its number, or `None` at the end of the stream.
    pub fn next_line(&mut self) -> io::Result<Option<(usize, &[u8])>> {
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(None);
        }
        self.number += 1;
        let mut line = self.buf.as_slice();
        if self.number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        line = line.strip_suffix(b"\n").unwrap_or(line);
        line = line.strip_suffix(b"\r").unwrap_or(line);
        Ok(Some((self.number, line)))
    }
}

/// Whether `line` holds only ASCII whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}
