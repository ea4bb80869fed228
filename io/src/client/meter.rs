//! Turns a response's data messages, each stamped with its arrival time, into a request's
//! measurements: TTFT, TTFO, text-chunk arrivals, usage and what went wrong.

use swarm_common::metrics::ErrorClass;

use super::chunk::{Chunk, Usage};

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

    #[test]
    fn clip_respects_char_boundaries() {
        let s = "é".repeat(600);
        let c = clip(&s);
        assert!(c.len() <= MAX_DETAIL + 3);
    }
}
