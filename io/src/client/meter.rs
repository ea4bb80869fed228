//! Turns a response's data messages, each stamped with its arrival time, into a request's
//! measurements: TTFT, TTFO, text-chunk arrivals, usage and what went wrong.

use swarm_common::metrics::ErrorClass;

use super::chunk::{Chunk, Usage};
use super::responses::{Event, Meaning, Response};

/// Longest error detail kept per request.
pub const MAX_DETAIL: usize = 512;

/// Measurement state of one response.
#[derive(Debug, Default)]
pub struct Meter {
    /// Time of the first data message with non-empty choices (µs from send).
    pub ttft_us: Option<u64>,
    /// Time of the first answer content (µs from send).
    pub ttfo_us: Option<u64>,
    /// Arrival of every text-carrying chunk (µs from send).
    pub chunk_us: Vec<u64>,
    /// Arrival of the last data message (µs from send).
    pub last_data_us: Option<u64>,
    /// Reasoning text received.
    pub reasoning: String,
    /// Answer text received.
    pub answer: String,
    /// Server usage, if any arrived.
    pub usage: Option<Usage>,
    /// A choice carried a finish reason.
    pub finished: bool,
    /// `[DONE]` arrived.
    pub done: bool,
    /// The first thing that went wrong.
    pub error: Option<(ErrorClass, String)>,
    /// Keep the received text (needed when tokens must be counted by a tokenizer).
    pub keep_text: bool,
    /// The payloads are Responses API events (`/v1/responses`), not chat/completions chunks.
    pub responses: bool,
}

/// Truncates a detail string on a char boundary.
pub fn clip(s: &str) -> String {
    if s.len() <= MAX_DETAIL {
        return s.to_string();
    }
    let mut end = MAX_DETAIL;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl Meter {
    /// A meter; `keep_text` retains the generated text for tokenizer counting.
    pub fn new(keep_text: bool) -> Self {
        Self {
            keep_text,
            ..Self::default()
        }
    }

    /// Handles one SSE data payload that arrived `at_us` after the send.
    pub fn on_data(&mut self, data: &[u8], event: &[u8], at_us: u64) {
        if self.error.is_some() || self.done {
            return;
        }
        let data = data.trim_ascii();
        if data.is_empty() {
            return;
        }
        self.last_data_us = Some(at_us);
        if data == b"[DONE]" {
            self.done = true;
            return;
        }
        if event == b"error" {
            self.error = Some((
                ErrorClass::StreamError,
                clip(&String::from_utf8_lossy(data)),
            ));
            return;
        }
        if self.responses {
            match Event::parse(data) {
                Ok(ev) => self.on_response_event(&ev, event, data, at_us),
                Err(e) => {
                    let text = String::from_utf8_lossy(data);
                    self.error = Some((ErrorClass::Malformed, clip(&format!("{e}: {text}"))));
                }
            }
            return;
        }
        match Chunk::parse(data) {
            Ok(chunk) => self.on_chunk(&chunk, data, at_us),
            Err(e) => {
                let text = String::from_utf8_lossy(data);
                self.error = Some((ErrorClass::Malformed, clip(&format!("{e}: {text}"))));
            }
        }
    }

    /// Handles a parsed chunk (also used for whole non-streamed responses).
    pub fn on_chunk(&mut self, chunk: &Chunk<'_>, raw: &[u8], at_us: u64) {
        if chunk.error.is_some() {
            self.error = Some((ErrorClass::StreamError, clip(&String::from_utf8_lossy(raw))));
            return;
        }
        if let Some(u) = chunk.usage {
            self.usage = Some(u);
        }
        let Some(choices) = chunk.choices.as_ref().filter(|c| !c.is_empty()) else {
            return;
        };
        self.ttft_us.get_or_insert(at_us);
        let mut carried_text = false;
        for choice in choices {
            let t = choice.text();
            if !t.reasoning.is_empty() {
                carried_text = true;
                if self.keep_text {
                    self.reasoning.push_str(t.reasoning);
                }
            }
            if !t.answer.is_empty() {
                carried_text = true;
                self.ttfo_us.get_or_insert(at_us);
                if self.keep_text {
                    self.answer.push_str(t.answer);
                }
            }
            if choice.finish_reason.is_some() {
                self.finished = true;
            }
        }
        if carried_text {
            self.chunk_us.push(at_us);
        }
    }

    /// Handles one Responses API stream event. As for chat: TTFT is the first generated text
    /// of any kind (an answer or reasoning delta), TTFO the first answer delta, and every
    /// text-carrying delta is a chunk (ITL = the gaps between them); `response.completed`
    /// (or `incomplete`) carries the usage and ends the response.
    pub fn on_response_event(&mut self, ev: &Event<'_>, sse_event: &[u8], raw: &[u8], at_us: u64) {
        match ev.meaning(sse_event) {
            Meaning::Answer(text) if !text.is_empty() => {
                self.ttft_us.get_or_insert(at_us);
                self.ttfo_us.get_or_insert(at_us);
                self.chunk_us.push(at_us);
                if self.keep_text {
                    self.answer.push_str(text);
                }
            }
            Meaning::Reasoning(text) if !text.is_empty() => {
                self.ttft_us.get_or_insert(at_us);
                self.chunk_us.push(at_us);
                if self.keep_text {
                    self.reasoning.push_str(text);
                }
            }
            Meaning::Finished => {
                self.finished = true;
                if let Some(r) = &ev.response {
                    if let Some(u) = r.usage {
                        self.usage = Some(u.to_usage());
                    }
                    if self.keep_text && self.answer.is_empty() {
                        self.answer = r.answer();
                    }
                }
            }
            Meaning::Failed => {
                self.error = Some((ErrorClass::StreamError, clip(&String::from_utf8_lossy(raw))));
            }
            Meaning::Answer(_) | Meaning::Reasoning(_) | Meaning::Ignored => {}
        }
    }

    /// Handles a whole non-streamed Responses API object received at `at_us`: TTFT at its
    /// arrival, TTFO too when it has answer text (as for a non-streamed chat answer).
    pub fn on_response(&mut self, r: &Response<'_>, raw: &[u8], at_us: u64) {
        if r.failed() {
            self.error = Some((ErrorClass::StreamError, clip(&String::from_utf8_lossy(raw))));
            return;
        }
        if let Some(u) = r.usage {
            self.usage = Some(u.to_usage());
        }
        self.finished = true;
        self.ttft_us.get_or_insert(at_us);
        let answer = r.answer();
        let reasoning = r.reasoning();
        if !answer.is_empty() {
            self.ttfo_us.get_or_insert(at_us);
        }
        if !answer.is_empty() || !reasoning.is_empty() {
            self.chunk_us.push(at_us);
        }
        if self.keep_text {
            self.answer.push_str(&answer);
            self.reasoning.push_str(&reasoning);
        }
    }

    /// Called when the body ended cleanly: a stream with no finish, usage or `[DONE]` was cut.
    pub fn on_end(&mut self) {
        if self.error.is_none() && !self.done && !self.finished && self.usage.is_none() {
            let detail = if self.last_data_us.is_some() {
                "stream ended without finish_reason, usage or [DONE]"
            } else {
                "empty response body"
            };
            self.error = Some((ErrorClass::Truncated, detail.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasoning_then_answer_sets_ttft_and_ttfo_apart() {
        let mut m = Meter::new(true);
        m.on_data(
            br#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#,
            b"",
            100,
        );
        m.on_data(
            br#"{"choices":[{"delta":{"reasoning_content":"think"}}]}"#,
            b"",
            110,
        );
        m.on_data(br#"{"choices":[{"delta":{"content":"answer"}}]}"#, b"", 150);
        m.on_data(
            br#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            b"",
            160,
        );
        m.on_data(
            br#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#,
            b"",
            170,
        );
        m.on_data(b"[DONE]", b"", 171);
        m.on_end();
        assert_eq!(m.ttft_us, Some(100));
        assert_eq!(m.ttfo_us, Some(150));
        assert_eq!(m.chunk_us, vec![110, 150]);
        assert_eq!(m.last_data_us, Some(171));
        assert_eq!(
            (m.reasoning.as_str(), m.answer.as_str()),
            ("think", "answer")
        );
        assert!(m.error.is_none());
        assert_eq!(m.usage.and_then(|u| u.completion_tokens), Some(2));
    }

    #[test]
    fn error_event_and_malformed_and_truncated() {
        let mut m = Meter::new(false);
        m.on_data(br#"{"error":{"message":"overloaded"}}"#, b"", 5);
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::StreamError));

        let mut m = Meter::new(false);
        m.on_data(br#"{"choices":[{"delta":"#, b"", 5);
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::Malformed));

        let mut m = Meter::new(false);
        m.on_data(br#"{"choices":[{"delta":{"content":"a"}}]}"#, b"", 5);
        m.on_end();
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::Truncated));

        let mut m = Meter::new(false);
        m.on_data(b"x", b"error", 5);
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::StreamError));
    }

    fn responses_meter() -> Meter {
        let mut m = Meter::new(true);
        m.responses = true;
        m
    }

    #[test]
    fn responses_stream_reasoning_then_answer_then_usage() {
        let mut m = responses_meter();
        let ev = |m: &mut Meter, name: &str, data: &str, at: u64| {
            m.on_data(data.as_bytes(), name.as_bytes(), at)
        };
        ev(
            &mut m,
            "response.created",
            r#"{"type":"response.created","response":{"status":"in_progress"}}"#,
            10,
        );
        ev(
            &mut m,
            "response.output_item.added",
            r#"{"type":"response.output_item.added","item":{"type":"reasoning"}}"#,
            20,
        );
        ev(
            &mut m,
            "response.reasoning_summary_text.delta",
            r#"{"type":"response.reasoning_summary_text.delta","delta":"think"}"#,
            100,
        );
        ev(
            &mut m,
            "response.reasoning_summary_text.delta",
            r#"{"type":"response.reasoning_summary_text.delta","delta":""}"#,
            105,
        );
        ev(
            &mut m,
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":"Hel"}"#,
            150,
        );
        ev(
            &mut m,
            "response.output_text.delta",
            r#"{"type":"response.output_text.delta","delta":"lo"}"#,
            170,
        );
        ev(
            &mut m,
            "response.some_new_event",
            r#"{"type":"response.some_new_event","x":[1]}"#,
            175,
        );
        ev(
            &mut m,
            "response.completed",
            r#"{"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":4,"output_tokens":3,"output_tokens_details":{"reasoning_tokens":1},"input_tokens_details":{"cached_tokens":0}}}}"#,
            180,
        );
        m.on_end();
        assert!(m.error.is_none(), "{:?}", m.error);
        assert_eq!(m.ttft_us, Some(100));
        assert_eq!(m.ttfo_us, Some(150));
        assert_eq!(m.chunk_us, vec![100, 150, 170]);
        assert_eq!(m.last_data_us, Some(180));
        assert_eq!(
            (m.reasoning.as_str(), m.answer.as_str()),
            ("think", "Hello")
        );
        let u = m.usage.expect("usage");
        assert_eq!((u.prompt_tokens, u.completion_tokens), (Some(4), Some(3)));
        assert_eq!(
            u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
            Some(1)
        );
    }

    #[test]
    fn responses_stream_errors() {
        let mut m = responses_meter();
        m.on_data(
            br#"{"type":"response.output_text.delta","delta":"a"}"#,
            b"",
            5,
        );
        m.on_data(br#"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error"}}}"#, b"response.failed", 9);
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::StreamError));
        assert!(
            m.error
                .as_ref()
                .is_some_and(|e| e.1.contains("server_error"))
        );

        let mut m = responses_meter();
        m.on_data(
            br#"{"type":"error","code":"rate_limit","message":"slow down"}"#,
            b"error",
            5,
        );
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::StreamError));

        let mut m = responses_meter();
        m.on_data(br#"{"type":"response.output_text.delta","delta":"#, b"", 5);
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::Malformed));

        // deltas but no response.completed: cut off
        let mut m = responses_meter();
        m.on_data(
            br#"{"type":"response.output_text.delta","delta":"a"}"#,
            b"",
            5,
        );
        m.on_end();
        assert_eq!(m.error.as_ref().map(|e| e.0), Some(ErrorClass::Truncated));
        assert_eq!(m.ttft_us, Some(5));
    }

    #[test]
    fn responses_stream_through_the_sse_parser_at_every_split() {
        let wire = b"event: response.created\r\ndata: {\"type\":\"response.created\",\"response\":{}}\r\n\r\n\
: keep-alive\n\n\
event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"delta\":\"r\"}\n\n\
event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"caf\\u00e9\"}\n\n\
event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}\n\n";
        for cut in 0..wire.len() {
            let mut m = responses_meter();
            let mut p = super::super::sse::SseParser::new();
            for (i, piece) in [&wire[..cut], &wire[cut..]].into_iter().enumerate() {
                let at = 10 * (i as u64 + 1);
                p.feed(piece, |ev| m.on_data(ev.data, ev.event, at));
            }
            p.finish(|ev| m.on_data(ev.data, ev.event, 30));
            m.on_end();
            assert!(m.error.is_none(), "cut {cut}: {:?}", m.error);
            assert_eq!(m.chunk_us.len(), 2, "cut {cut}");
            assert_eq!(
                (m.reasoning.as_str(), m.answer.as_str()),
                ("r", "caf\u{e9}")
            );
            assert_eq!(m.usage.and_then(|u| u.completion_tokens), Some(2));
        }
    }

    #[test]
    fn whole_response_sets_ttft_ttfo_and_usage() {
        let raw = br#"{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"ok"}]}],"usage":{"input_tokens":2,"output_tokens":1}}"#;
        let r: Response<'_> = serde_json::from_slice(raw).expect("valid");
        let mut m = responses_meter();
        m.on_response(&r, raw, 40);
        m.on_end();
        assert!(m.error.is_none());
        assert_eq!((m.ttft_us, m.ttfo_us), (Some(40), Some(40)));
        assert_eq!(m.answer, "ok");
        assert_eq!(m.usage.and_then(|u| u.completion_tokens), Some(1));
    }

    #[test]
    fn clip_respects_char_boundaries() {
        let s = "é".repeat(600);
        let c = clip(&s);
        assert!(c.len() <= MAX_DETAIL + 3);
    }
}
