//! A trace file read one line at a time: memory does not grow with the file.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::entry::{TraceEntry, parse_line};
use crate::dataset::LineError;

/// The entries of a trace file, in file order. Blank lines are passed over; a bad line, or a
/// timestamp earlier than the line before it (a trace is replayed as it is read, so it must be
/// in time order), ends the reading with an error naming the line.
pub struct TraceReader<R> {
    path: PathBuf,
    input: R,
    line_no: usize,
    buf: String,
    last_ms: Option<f64>,
    done: bool,
}

impl<R: BufRead> TraceReader<R> {
    /// Reads `input`, naming it `path` in errors.
    pub fn new(path: &Path, input: R) -> Self {
        Self {
            path: path.to_path_buf(),
            input,
            line_no: 0,
            buf: String::new(),
            last_ms: None,
            done: false,
        }
    }

    fn fail(
        &mut self,
        field: Option<&str>,
        message: String,
    ) -> Option<Result<TraceEntry, LineError>> {
        self.done = true;
        Some(Err(LineError {
            path: self.path.clone(),
            line: self.line_no,
            field: field.map(String::from),
            message,
        }))
    }
}

impl<R: BufRead> Iterator for TraceReader<R> {
    type Item = Result<TraceEntry, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            self.buf.clear();
            self.line_no += 1;
            match self.input.read_line(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => return self.fail(None, format!("cannot read: {e}")),
            }
            let text = self.buf.trim();
            if text.is_empty() {
                continue;
            }
            let entry = match parse_line(&self.path, self.line_no, text) {
                Ok(e) => e,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if let Some(last) = self.last_ms
                && entry.timestamp < last
            {
                let m = format!(
                    "{} is earlier than the line before ({last}); a trace must be in time order",
                    entry.timestamp
                );
                return self.fail(Some("timestamp"), m);
            }
            self.last_ms = Some(entry.timestamp);
            return Some(Ok(entry));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_in_order_and_names_the_first_bad_one() {
        let text = "{\"timestamp\": 0, \"input_length\": 3, \"output_length\": 1}\n\n{\"timestamp\": 5, \"input_length\": 3, \"output_length\": 2}\n{\"timestamp\": 4, \"input_length\": 3, \"output_length\": 2}\n{\"timestamp\": 9, \"input_length\": 3, \"output_length\": 2}\n";
        let mut r = TraceReader::new(Path::new("x.jsonl"), text.as_bytes());
        assert_eq!(r.next().expect("one").expect("ok").output_length, 1);
        assert_eq!(r.next().expect("two").expect("ok").timestamp, 5.0);
        let e = r.next().expect("three").expect_err("out of order");
        assert_eq!(e.line, 4);
        assert_eq!(e.field.as_deref(), Some("timestamp"));
        assert!(
            e.to_string()
                .starts_with("x.jsonl:4: field `timestamp`: 4 is earlier"),
            "{e}"
        );
        assert!(r.next().is_none(), "reading stops at the first error");
    }
}
