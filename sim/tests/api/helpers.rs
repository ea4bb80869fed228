//! Starting a simulator and talking to it.

use std::net::SocketAddr;

use llm_sim::{SimConfig, SimHandle};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub async fn sim(config: SimConfig) -> SimHandle {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    llm_sim::start(config, bind, CancellationToken::new())
        .await
        .unwrap()
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

/// POSTs `body` to `path` with optional extra headers.
pub async fn post(
    sim: &SimHandle,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = client().post(format!("{}{path}", sim.url())).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

/// The `data:` payloads of an SSE body, in order.
pub fn data_lines(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.strip_prefix("data: ")
                .unwrap_or_else(|| panic!("event without data prefix: {e:?}"))
                .to_owned()
        })
        .collect()
}

/// The JSON payloads of an SSE body, stopping before `[DONE]` (which must be last if present).
pub fn json_events(text: &str) -> (Vec<Value>, bool) {
    let lines = data_lines(text);
    let done = lines.last().is_some_and(|l| l == "[DONE]");
    let events = lines
        .iter()
        .take(lines.len() - usize::from(done))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event {l:?}: {e}")))
        .collect();
    (events, done)
}

pub fn chat(max_tokens: u32, stream: bool) -> Value {
    serde_json::json!({
        "model": "test-model",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello there sim"}]},
        ],
        "max_tokens": max_tokens,
        "stream": stream,
        "stream_options": {"include_usage": true},
    })
}
