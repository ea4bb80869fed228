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
/// The error event of the `stream_error` fault on `/v1/responses`.
pub(crate) const RESPONSES_ERROR_EVENT: &[u8] = b"event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"simulated overload\",\"param\":null}\n\n";
/// The event of the `malformed` fault: its data line is cut-off JSON.
pub(crate) const MALFORMED_EVENT: &[u8] = b"data: {\"choices\":[{\"delta\":\n\n";

/// Writes the events of one streamed answer.
#[derive(Debug)]
pub(crate) struct EventWriter {
    /// `data: {"id":..,"object":..,"created":..,"model":..,"choices":[` (chat, completions);
    /// the response id (Responses API).
    head: String,
    endpoint: Endpoint,
    /// Responses API: the model id as a JSON string, and the creation time.
    model_json: String,
    created: u64,
}

impl EventWriter {
    /// `model_json` is the model id as a JSON string literal (quoted and escaped).
    pub fn new(plan: &Plan, model_json: &str, created: u64) -> Self {
        let object = match plan.endpoint {
            Endpoint::Chat => "chat.completion.chunk",
            Endpoint::Completion => "text_completion",
            Endpoint::Responses => {
                return EventWriter {
                    head: plan.id.clone(),
                    endpoint: plan.endpoint,
                    model_json: model_json.to_owned(),
                    created,
                };
            }
        };
        let head = format!(
            "data: {{\"id\":\"{}\",\"object\":\"{object}\",\"created\":{created},\"model\":{model_json},\"choices\":[",
            plan.id
        );
        EventWriter {
            head,
            endpoint: plan.endpoint,
            model_json: String::new(),
            created,
        }
    }

    /// Bytes of a typical token event, for sizing buffers.
    pub fn token_event_len(&self) -> usize {
        self.head.len() + 120
    }

    /// The stream's error event (the `stream_error` fault).
    pub fn error_event(&self) -> &'static [u8] {
        match self.endpoint {
            Endpoint::Responses => RESPONSES_ERROR_EVENT,
            Endpoint::Chat | Endpoint::Completion => ERROR_EVENT,
        }
    }

    /// The first event of a stream: chat's role chunk (`delta: {role: assistant, content:
    /// ""}`), or the Responses API's `response.created`.
    pub fn role(&self, buf: &mut BytesMut) {
        if self.endpoint == Endpoint::Responses {
            let _ = write!(
                buf,
                "event: response.created\ndata: {{\"type\":\"response.created\",\"sequence_number\":0,\"response\":{{\"id\":\"{}\",\"object\":\"response\",\"created_at\":{},\"status\":\"in_progress\",\"model\":{},\"output\":[],\"usage\":null}}}}\n\n",
                self.head, self.created, self.model_json
            );
            return;
        }
        buf.put_slice(self.head.as_bytes());
        buf.put_slice(
            b"{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        );
    }

    /// One token's chunk; `finish` is set on the last token.
    pub fn token(&self, buf: &mut BytesMut, text: &str, channel: Channel, finish: Option<&str>) {
        if self.endpoint == Endpoint::Responses {
            let (kind, item, index) = match channel {
                Channel::Content => ("response.output_text.delta", "msg", "content_index"),
                Channel::Reasoning => (
                    "response.reasoning_summary_text.delta",
                    "rs",
                    "summary_index",
                ),
            };
            let output_index = u8::from(channel == Channel::Content);
            let _ = write!(
                buf,
                "event: {kind}\ndata: {{\"type\":\"{kind}\",\"item_id\":\"{item}_{}\",\"output_index\":{output_index},\"{index}\":0,\"delta\":\"",
                self.head
            );
            buf.put_slice(text.as_bytes());
            buf.put_slice(b"\"}\n\n");
            return;
        }
        buf.put_slice(self.head.as_bytes());
        match (self.endpoint, channel) {
            (Endpoint::Chat, Channel::Content) => {
                buf.put_slice(b"{\"index\":0,\"delta\":{\"content\":\"");
            }
            (Endpoint::Chat, Channel::Reasoning) => {
                buf.put_slice(b"{\"index\":0,\"delta\":{\"reasoning_content\":\"");
            }
            (Endpoint::Completion | Endpoint::Responses, _) => {
                buf.put_slice(b"{\"index\":0,\"text\":\"");
            }
        }
        buf.put_slice(text.as_bytes());
        match self.endpoint {
            Endpoint::Chat => buf.put_slice(b"\"},\"logprobs\":null,\"finish_reason\":"),
            Endpoint::Completion | Endpoint::Responses => {
                buf.put_slice(b"\",\"logprobs\":null,\"finish_reason\":");
            }
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

    /// The usage chunk: no choices, just `usage` (Responses API: `response.completed`, or
    /// `response.incomplete` when the answer hit `max_output_tokens`, with the usage).
    pub fn usage(&self, buf: &mut BytesMut, plan: &Plan) {
        if self.endpoint == Endpoint::Responses {
            let kind = if plan.finish_reason == "length" {
                "response.incomplete"
            } else {
                "response.completed"
            };
            let _ = write!(
                buf,
                "event: {kind}\ndata: {{\"type\":\"{kind}\",\"response\":{{\"id\":\"{}\",\"object\":\"response\",\"created_at\":{},\"status\":\"{}\",\"model\":{},",
                self.head,
                self.created,
                responses_status(plan),
                self.model_json
            );
            write_responses_usage(buf, plan);
            buf.put_slice(b"}}\n\n");
            return;
        }
        buf.put_slice(self.head.as_bytes());
        buf.put_slice(b"],");
        write_usage(buf, plan);
        buf.put_slice(b"}\n\n");
    }
}

/// A Responses API status: `incomplete` when the answer hit `max_output_tokens`.
pub(crate) fn responses_status(plan: &Plan) -> &'static str {
    if plan.finish_reason == "length" {
        "incomplete"
    } else {
        "completed"
    }
}

/// The Responses API's `"usage":{...}` for `plan`.
pub(crate) fn write_responses_usage(buf: &mut BytesMut, plan: &Plan) {
    let total = u64::from(plan.prompt_tokens) + u64::from(plan.completion_tokens);
    // Writing into a BytesMut grows it and cannot fail.
    let _ = write!(
        buf,
        "\"usage\":{{\"input_tokens\":{},\"input_tokens_details\":{{\"cached_tokens\":{}}},\
         \"output_tokens\":{},\"output_tokens_details\":{{\"reasoning_tokens\":{}}},\
         \"total_tokens\":{total}}}",
        plan.prompt_tokens, plan.cached_tokens, plan.completion_tokens, plan.reasoning_tokens
    );
}

/// `"usage":{...}` for `plan`.
pub(crate) fn write_usage(buf: &mut BytesMut, plan: &Plan) {
    let total = u64::from(plan.prompt_tokens) + u64::from(plan.completion_tokens);
    // Writing into a BytesMut grows it and cannot fail.
    let _ = write!(
        buf,
        "\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{total},\
         \"completion_tokens_details\":{{\"reasoning_tokens\":{}}},\
         \"prompt_tokens_details\":{{\"cached_tokens\":{}}}}}",
        plan.prompt_tokens, plan.completion_tokens, plan.reasoning_tokens, plan.cached_tokens
    );
}
