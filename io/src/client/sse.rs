//! An incremental Server-Sent Events parser: bytes in whatever pieces TCP delivers them, events
//! out. Follows the WHATWG rules that matter for LLM streams: `\n`, `\r\n` or `\r` line ends,
//! multi-line `data:` joined with `\n`, comments ignored, an event ends at a blank line (or at
//! the end of the stream).

/// One dispatched event; borrowed from the parser until the next call.
#[derive(Debug, PartialEq, Eq)]
pub struct SseEvent<'a> {
    /// The `event:` field, empty when absent.
    pub event: &'a [u8],
    /// The `data:` lines joined by `\n`.
    pub data: &'a [u8],
}

/// Parser state carried between reads.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    data: Vec<u8>,
    event: Vec<u8>,
    has_data: bool,
    skip_lf: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes; calls `on_event` for every event they complete.
    pub fn feed(&mut self, mut input: &[u8], mut on_event: impl FnMut(SseEvent<'_>)) {
        if input.is_empty() {
            return;
        }
        if self.skip_lf {
            self.skip_lf = false;
            if input.first() == Some(&b'\n') {
                input = &input[1..];
            }
        }
        while let Some(i) = input.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (head, rest) = input.split_at(i);
            if self.line.is_empty() {
                self.process_line(head, &mut on_event);
            } else {
                let mut line = std::mem::take(&mut self.line);
                line.extend_from_slice(head);
                self.process_line(&line, &mut on_event);
                line.clear();
                self.line = line;
            }
            input = if rest[0] == b'\r' {
                match rest.get(1) {
                    Some(b'\n') => &rest[2..],
                    Some(_) => &rest[1..],
                    None => {
                        self.skip_lf = true;
                        &rest[1..]
                    }
                }
            } else {
                &rest[1..]
            };
        }
        self.line.extend_from_slice(input);
    }

    /// Ends the stream: a final event without its blank line is still dispatched.
    pub fn finish(&mut self, mut on_event: impl FnMut(SseEvent<'_>)) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, &mut on_event);
        }
        self.dispatch(&mut on_event);
    }

    /// Bytes held back waiting for a line end (useful to bound memory on hostile streams).
    pub fn pending(&self) -> usize {
        self.line.len() + self.data.len()
    }

    fn process_line(&mut self, line: &[u8], on_event: &mut impl FnMut(SseEvent<'_>)) {
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            // llama.cpp's server (cpp-httplib builds) reports a failed task as a non-standard
            // `error:` field; read it as an `error` event so it is never mistaken for success
            b"error" => {
                self.event.clear();
                self.event.extend_from_slice(b"error");
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(SseEvent<'_>)) {
        if self.has_data {
            on_event(SseEvent {
                event: &self.event,
                data: &self.data,
            });
        }
        self.has_data = false;
        self.data.clear();
        self.event.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<(String, String)> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let mut push = |e: SseEvent<'_>| {
            out.push((
                String::from_utf8_lossy(e.event).into_owned(),
                String::from_utf8_lossy(e.data).into_owned(),
            ))
        };
        let mut last = 0;
        for &c in cuts {
            let c = c.min(input.len()).max(last);
            p.feed(&input[last..c], &mut push);
            last = c;
        }
        p.feed(&input[last..], &mut push);
        p.finish(&mut push);
        out
    }

    #[test]
    fn basic_events_and_done() {
        let s = b"data: {\"a\":1}\n\ndata: [DONE]\n\n";
        let ev = parse_in_pieces(s, &[]);
        assert_eq!(
            ev,
            vec![
                ("".into(), "{\"a\":1}".into()),
                ("".into(), "[DONE]".into())
            ]
        );
    }

    #[test]
    fn comments_event_names_multiline_and_crlf() {
        let s = b": keep-alive\r\nevent: error\r\ndata: line1\r\ndata:line2\r\n\r\ndata: x\rdata: y\r\r";
        let ev = parse_in_pieces(s, &[]);
        assert_eq!(
            ev,
            vec![
                ("error".into(), "line1\nline2".into()),
                ("".into(), "x\ny".into())
            ]
        );
    }

    #[test]
    fn an_empty_read_between_cr_and_lf_changes_nothing() {
        // "\r" | "" | "\n": the empty read must not forget that a "\n" may still follow
        let s = b"data: a\r\ndata: b\r\n\r\n";
        let at = 8; // just after the first '\r'
        assert_eq!(
            parse_in_pieces(s, &[at, at]),
            vec![("".into(), "a\nb".into())]
        );
    }

    #[test]
    fn llama_cpp_error_field_is_an_error_event() {
        let ev = parse_in_pieces(b"error: {\"code\":400}\n\ndata: [DONE]\n\n", &[]);
        assert_eq!(
            ev,
            vec![
                ("error".into(), "{\"code\":400}".into()),
                ("".into(), "[DONE]".into())
            ]
        );
    }

    #[test]
    fn final_event_without_blank_line_is_dispatched() {
        assert_eq!(
            parse_in_pieces(b"data: tail", &[]),
            vec![("".into(), "tail".into())]
        );
    }

    #[test]
    fn cr_lf_split_across_reads_is_one_line_end() {
        let s = b"data: a\r\n\r\ndata: b\r\n\r\n";
        for cut in 0..s.len() {
            assert_eq!(
                parse_in_pieces(s, &[cut]),
                vec![("".into(), "a".into()), ("".into(), "b".into())],
                "cut at {cut}"
            );
        }
    }

    fn stream_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<(String, String)>)> {
        let data = "[a-zA-Z0-9{}\":, \\[\\]]{0,40}";
        let ev = (
            prop::option::of("[a-z]{1,8}"),
            prop::collection::vec(data, 1..3),
            0..3usize,
            prop::bool::ANY,
        );
        prop::collection::vec(ev, 0..12).prop_map(|events| {
            let mut bytes = Vec::new();
            let mut expect = Vec::new();
            for (name, lines, eol, comment) in events {
                let nl: &[u8] = [&b"\n"[..], b"\r\n", b"\r"][eol];
                if comment {
                    bytes.extend_from_slice(b": ping");
                    bytes.extend_from_slice(nl);
                }
                if let Some(n) = &name {
                    bytes.extend_from_slice(b"event: ");
                    bytes.extend_from_slice(n.as_bytes());
                    bytes.extend_from_slice(nl);
                }
                for l in &lines {
                    bytes.extend_from_slice(b"data: ");
                    bytes.extend_from_slice(l.as_bytes());
                    bytes.extend_from_slice(nl);
                }
                bytes.extend_from_slice(nl);
                expect.push((name.unwrap_or_default(), lines.join("\n")));
            }
            (bytes, expect)
        })
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_events((bytes, expect) in stream_strategy(), cuts in prop::collection::vec(0usize..400, 0..20)) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(parse_in_pieces(&bytes, &cuts), expect);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), cut in 0usize..512) {
            let _ = parse_in_pieces(&bytes, &[cut]);
        }
    }
}
