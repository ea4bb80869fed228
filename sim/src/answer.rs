//! The body of a non-streamed answer: one `chat.completion` or `text_completion` object.

use std::fmt::Write;

use bytes::{BufMut, Bytes, BytesMut};

use crate::ReasoningMode;
use crate::plan::{Endpoint, Plan};
use crate::sse::{responses_status, write_responses_usage, write_usage};
use crate::vocab::Channel;

/// The whole JSON answer for `plan`.
pub(crate) fn answer_body(plan: &Plan, model_json: &str, created: u64) -> Bytes {
    let n = plan.completion_tokens;
    let mut content = BytesMut::with_capacity(n as usize * 8);
    let mut reasoning = BytesMut::new();
    for i in 0..n {
        match plan.token(i) {
            (text, Channel::Content) => content.put_slice(text.as_bytes()),
            (text, Channel::Reasoning) => reasoning.put_slice(text.as_bytes()),
        }
    }

    let mut buf = BytesMut::with_capacity(content.len() + reasoning.len() + 512);
    let object = match plan.endpoint {
        Endpoint::Chat => "chat.completion",
        Endpoint::Completion => "text_completion",
        Endpoint::Responses => {
            responses_body(&mut buf, plan, model_json, created, &content, &reasoning);
            return buf.freeze();
        }
    };
    // Writing into a BytesMut grows it and cannot fail.
    let _ = write!(
        buf,
        "{{\"id\":\"{}\",\"object\":\"{object}\",\"created\":{created},\"model\":{model_json},\"choices\":[{{\"index\":0,",
        plan.id
    );
    match plan.endpoint {
        Endpoint::Chat => {
            buf.put_slice(b"\"message\":{\"role\":\"assistant\",\"content\":\"");
            buf.put_slice(&content);
            buf.put_u8(b'"');
            if plan.reasoning == ReasoningMode::Field {
                buf.put_slice(b",\"reasoning_content\":\"");
                buf.put_slice(&reasoning);
                buf.put_u8(b'"');
            }
            buf.put_u8(b'}');
        }
        Endpoint::Completion | Endpoint::Responses => {
            buf.put_slice(b"\"text\":\"");
            buf.put_slice(&content);
            buf.put_u8(b'"');
        }
    }
    let _ = write!(
        buf,
        ",\"logprobs\":null,\"finish_reason\":\"{}\"}}],",
        plan.finish_reason
    );
    write_usage(&mut buf, plan);
    buf.put_u8(b'}');
    buf.freeze()
}

/// A Responses API `response` object: a `reasoning` item with the reasoning as its summary
/// (reasoning mode `field`), then the `message` item with the answer as `output_text`, then
/// `usage`.
fn responses_body(
    buf: &mut BytesMut,
    plan: &Plan,
    model_json: &str,
    created: u64,
    content: &[u8],
    reasoning: &[u8],
) {
    // Writing into a BytesMut grows it and cannot fail.
    let _ = write!(
        buf,
        "{{\"id\":\"{}\",\"object\":\"response\",\"created_at\":{created},\"status\":\"{}\",\
         \"error\":null,\"model\":{model_json},\"output\":[",
        plan.id,
        responses_status(plan)
    );
    if plan.reasoning == ReasoningMode::Field && !reasoning.is_empty() {
        let _ = write!(
            buf,
            "{{\"type\":\"reasoning\",\"id\":\"rs_{}\",\"summary\":[{{\"type\":\"summary_text\",\"text\":\"",
            plan.id
        );
        buf.put_slice(reasoning);
        buf.put_slice(b"\"}]},");
    }
    let _ = write!(
        buf,
        "{{\"type\":\"message\",\"id\":\"msg_{}\",\"status\":\"completed\",\"role\":\"assistant\",\
         \"content\":[{{\"type\":\"output_text\",\"annotations\":[],\"text\":\"",
        plan.id
    );
    buf.put_slice(content);
    buf.put_slice(b"\"}]}],");
    write_responses_usage(buf, plan);
    buf.put_u8(b'}');
}

/// The body of a non-streamed `malformed` fault: a 200 whose JSON is cut off.
pub(crate) fn malformed_body(plan: &Plan) -> Bytes {
    Bytes::from(format!(
        "{{\"id\":\"{}\",\"choices\":[{{\"message\":",
        plan.id
    ))
}
