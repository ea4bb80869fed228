//! One request's measurements, stamped on the agent's monotonic clock.

use serde::{Deserialize, Serialize};

/// Why a request failed, coarse enough to count and fine enough to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The TCP/TLS connection could not be established.
    Connect,
    /// The connect, read (between chunks) or total timeout expired.
    Timeout,
    /// The server answered 4xx (429 included).
    Http4xx,
    /// The server answered 5xx.
    Http5xx,
    /// The connection broke in the middle of the response.
    Reset,
    /// A data line or response body was not the JSON an OpenAI-compatible server sends.
    Malformed,
    /// The server sent an error object inside the event stream.
    StreamError,
    /// The stream ended without a finish reason, usage or `[DONE]`.
    Truncated,
    /// The run was cancelled while the request was in flight.
    Cancelled,
    /// The answer outgrew the client's bounds (a body or one event-stream line larger than the
    /// target's `max_body_bytes` / `max_line_bytes`): a hostile or broken server, cut off.
    TooLarge,
    /// Anything else the client could not classify.
    Other,
}

impl ErrorClass {
    /// Every class, in report order.
    pub const ALL: [ErrorClass; 11] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Http4xx,
        ErrorClass::Http5xx,
        ErrorClass::Reset,
        ErrorClass::Malformed,
        ErrorClass::StreamError,
        ErrorClass::Truncated,
        ErrorClass::Cancelled,
        ErrorClass::TooLarge,
        ErrorClass::Other,
    ];

    /// The snake_case name used in JSON and SQLite.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Http4xx => "http_4xx",
            ErrorClass::Http5xx => "http_5xx",
            ErrorClass::Reset => "reset",
            ErrorClass::Malformed => "malformed",
            ErrorClass::StreamError => "stream_error",
            ErrorClass::Truncated => "truncated",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::TooLarge => "too_large",
            ErrorClass::Other => "other",
        }
    }

    /// The class of an HTTP error status.
    pub fn from_status(status: u16) -> ErrorClass {
        match status {
            400..=499 => ErrorClass::Http4xx,
            500..=599 => ErrorClass::Http5xx,
            _ => ErrorClass::Other,
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a request's token counts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// The server's `usage` object.
    Usage,
    /// Counted by the run's tokenizer from the prompt and the generated text.
    Tokenizer,
    /// No usage and no tokenizer: completion tokens estimated as one per text chunk.
    #[default]
    Unknown,
}

/// Everything measured about one request. Times are microseconds: `scheduled_us` and `sent_us`
/// from the stage epoch, the others from `sent_us`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RequestRecord {
    /// Sequence number within the shard.
    pub id: u64,
    /// When an open-loop schedule wanted the request sent (None in closed loop).
    pub scheduled_us: Option<u64>,
    /// When the request was actually handed to the connection.
    pub sent_us: u64,
    /// From `sent_us` until the connection took the first byte of the body: waiting on the
    /// client for a connection (HTTP/1.1) or a stream (HTTP/2). None when it never got there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_us: Option<u64>,
    /// Time to the first data message with non-empty `choices` (EvalScope's TTFT).
    pub ttft_us: Option<u64>,
    /// Time to the first answer content, after any reasoning (TTFO).
    pub ttfo_us: Option<u64>,
    /// Time to the last data message (or to the failure).
    pub latency_us: u64,
    /// Arrival of every chunk that carried generated text (content, reasoning or completion
    /// text), relative to `sent_us`; inter-token latencies are the gaps between them.
    pub chunk_us: Vec<u64>,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens (reasoning included, as OpenAI counts them).
    pub completion_tokens: u32,
    /// Reasoning tokens among the completion tokens.
    pub reasoning_tokens: u32,
    /// Prompt tokens served from the server's prefix cache.
    pub cached_tokens: u32,
    /// Where the token counts came from.
    pub token_source: TokenSource,
    /// HTTP status (0 when no response arrived).
    pub status: u16,
    /// Why the request failed; None on success.
    pub error: Option<ErrorClass>,
    /// The server's error body or the transport error, truncated.
    pub error_detail: Option<String>,
    /// `--multi-turn`: the conversation (its index among the shard's measured ones) this
    /// request was a turn of; None outside multi-turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<u64>,
    /// `--multi-turn`: the turn's index in its conversation, 0 for the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<u32>,
}

impl RequestRecord {
    /// Whether the request completed without error.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }

    /// When the request finished, from the stage epoch.
    pub fn done_us(&self) -> u64 {
        self.sent_us.saturating_add(self.latency_us)
    }

    /// Latency measured from the scheduled send time (coordinated-omission corrected).
    pub fn corrected_latency_us(&self) -> Option<u64> {
        self.scheduled_us.map(|s| self.done_us().saturating_sub(s))
    }

    /// How late the request went out compared with its schedule.
    pub fn send_lag_us(&self) -> Option<u64> {
        self.scheduled_us.map(|s| self.sent_us.saturating_sub(s))
    }

    /// EvalScope's TPOT: (latency − TTFT) / (completion_tokens − 1); 0 with one token or fewer.
    pub fn tpot_us(&self) -> f64 {
        match self.ttft_us {
            Some(ttft) if self.completion_tokens > 1 => {
                self.latency_us.saturating_sub(ttft) as f64 / f64::from(self.completion_tokens - 1)
            }
            _ => 0.0,
        }
    }

    /// Gaps between consecutive text-carrying chunks.
    pub fn itl_us(&self) -> impl Iterator<Item = u64> + '_ {
        self.chunk_us.windows(2).map(|w| w[1].saturating_sub(w[0]))
    }

    /// Per-request output throughput: completion tokens / latency.
    pub fn output_tps(&self) -> f64 {
        per_second(f64::from(self.completion_tokens), self.latency_us)
    }

    /// Per-request total throughput: (prompt + completion tokens) / latency.
    pub fn total_tps(&self) -> f64 {
        per_second(
            f64::from(self.prompt_tokens) + f64::from(self.completion_tokens),
            self.latency_us,
        )
    }

    /// Per-request decode speed: (completion_tokens − 1) / (latency − TTFT).
    pub fn decode_tps(&self) -> f64 {
        match self.ttft_us {
            Some(ttft) if self.completion_tokens > 1 => per_second(
                f64::from(self.completion_tokens - 1),
                self.latency_us.saturating_sub(ttft),
            ),
            _ => 0.0,
        }
    }
}

fn per_second(count: f64, us: u64) -> f64 {
    if us == 0 {
        0.0
    } else {
        count * 1e6 / us as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> RequestRecord {
        RequestRecord {
            scheduled_us: Some(1_000),
            sent_us: 1_500,
            ttft_us: Some(50_000),
            latency_us: 250_000,
            chunk_us: vec![50_000, 60_000, 75_000],
            prompt_tokens: 100,
            completion_tokens: 21,
            ..Default::default()
        }
    }

    #[test]
    fn formulas_on_known_inputs() {
        let r = rec();
        assert_eq!(r.tpot_us(), 10_000.0); // (250 ms - 50 ms) / 20
        assert_eq!(r.itl_us().collect::<Vec<_>>(), vec![10_000, 15_000]);
        assert_eq!(r.done_us(), 251_500);
        assert_eq!(r.corrected_latency_us(), Some(250_500));
        assert_eq!(r.send_lag_us(), Some(500));
        assert!((r.output_tps() - 84.0).abs() < 1e-9);
        assert!((r.total_tps() - 484.0).abs() < 1e-9);
        assert!((r.decode_tps() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn tpot_is_zero_for_one_token() {
        let r = RequestRecord {
            completion_tokens: 1,
            ..rec()
        };
        assert_eq!(r.tpot_us(), 0.0);
        assert_eq!(r.decode_tps(), 0.0);
    }

    #[test]
    fn status_classes() {
        assert_eq!(ErrorClass::from_status(429), ErrorClass::Http4xx);
        assert_eq!(ErrorClass::from_status(503), ErrorClass::Http5xx);
        assert_eq!(ErrorClass::from_status(302), ErrorClass::Other);
    }
}
