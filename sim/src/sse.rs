//! Server-sent events of a streamed answer, written by hand into a reusable buffer: each event's
//! JSON is a per-request prefix (id, object, created, model) plus a fixed tail, so streaming a
//! token costs a few `memcpy`s and no serialization.

use std::fmt::Write;

use bytes::{BufMut, BytesMut};

use crate::plan::{Endpoint, Plan};
use crate::vocab::Channel;

/// The final event of a complete stream.
pub(crate) const DONE: &[u8] = b"data: [DONE]\n\n";
/// The error event of the `stream_error` fault.
pub(crate) const ERROR_EVENT: &[u8] =
    b"data: {\"error\":{\"message\":\"simulated overload\",\"type\":\"server_error\",\"code\":500}}\n\n";
/// The event of the `malformed` fault: its data line is cut-off JSON.
pub(crate) const MALFORMED_EVENT: &[u8] = b"data: {\"choices\":[{\"delta\":\n\n";

/// Writes the events of one streamed answer.
#[derive(Debug)]
pub(crate) struct EventWriter {
    /// `data: {"id":..,"object":..,"created":..,"model":..,"choices":[`
    head: String,
    endpoint: Endpoint,
}

impl EventWriter {
    /// `model_json` is the model id as a JSON string literal (quoted and escaped).
    pub fn new(plan: &Plan, model_json: &str, created: u64) -> Self {
        let object = match plan.endpoint {
            Endpoint::Chat => "chat.completion.chunk",
            Endpoint::Completion => "text_completion",
        };
        let head = format!(
            "data: {{\"id\":\"{}\",\"object\":\"{object}\",\"created\":{created},\"model\":{model_json},\"choices\":[",
            plan.id
        );
        EventWriter {
            head,
            endpoint: plan.endpoint,
        }
    }

    /// Bytes of a typical token event, for sizing buffers.
    pub fn token_event_len(&self) -> usize {
        self.head.len() + 80
    }

    /// The chat role chunk: `delta: {role: assistant, content: ""}`.
    pub fn role(&self, buf: &mut BytesMut) {
        buf.put_slice(self.head.as_bytes());
        buf.put_slice(
            b"{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        );
    }

    /// One token's chunk; `finish` is set on the last token.
    pub fn token(&self, buf: &mut BytesMut, text: &str, channel: Channel, finish: Option<&str>) {
        buf.put_slice(self.head.as_bytes());
        match (self.endpoint, channel) {
            (Endpoint::Chat, Channel::Content) => {
                buf.put_slice(b"{\"index\":0,\"delta\":{\"content\":\"");
            }
            (Endpoint::Chat, Channel::Reasoning) => {
                buf.put_slice(b"{\"index\":0,\"delta\":{\"reasoning_content\":\"");
            }
            (Endpoint::Completion, _) => buf.put_slice(b"{\"index\":0,\"text\":\""),
        }
        buf.put_slice(text.as_bytes());
        match self.endpoint {
            Endpoint::Chat => buf.put_slice(b"\"},\"logprobs\":null,\"finish_reason\":"),
            Endpoint::Completion => buf.put_slice(b"\",\"logprobs\":null,\"finish_reason\":"),
        }
        match finish {
            Some(reason) => {
                buf.put_u8(b'"');
                buf.put_slice(reason.as_bytes());
                buf.put_u8(b'"');
            }
            None => buf.put_slice(b"null"),
        }
        buf.put_slice(b"}]}\n\n");
    }

    /// The usage chunk: no choices, just `usage`.
    pub fn usage(&self, buf: &mut BytesMut, plan: &Plan) {
        buf.put_slice(self.head.as_bytes());
        buf.put_slice(b"],");
        write_usage(buf, plan);
        buf.put_slice(b"}\n\n");
    }
}

/// `"usage":{...}` for `plan`.
pub(crate) fn write_usage(buf: &mut BytesMut, plan: &Plan) {
    let total = u64::from(plan.prompt_tokens) + u64::from(plan.completion_tokens);
    // Writing into a BytesMut grows it and cannot fail.
    let _ = write!(
        buf,
        "\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{total},\
         \"completion_tokens_details\":{{\"reasoning_tokens\":{}}},\
         \"prompt_tokens_details\":{{\"cached_tokens\":0}}}}",
        plan.prompt_tokens, plan.completion_tokens, plan.reasoning_tokens
    );
}
