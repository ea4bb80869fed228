//! Each fault, forced with the `x-sim-fault` header, behaves as documented.

use std::time::Duration;

use llm_sim::SimConfig;
use serde_json::Value;

use crate::helpers::{chat, data_lines, json_events, post, sim};

/// Tokens (content deltas) in the JSON events of a raw SSE text.
fn token_events(events: &[Value]) -> usize {
    events
        .iter()
        .filter(|e| {
            e["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
        .count()
}

#[tokio::test]
async fn rate_limit_and_server_error() {
    let sim = sim(SimConfig::instant()).await;
    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(4, true),
        &[("x-sim-fault", "429")],
    )
    .await;
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "1");
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["code"], 429);

    let resp = post(
        &sim,
        "/v1/completions",
        &serde_json::json!({"prompt": "x"}),
        &[("x-sim-fault", "rate_500")],
    )
    .await;
    assert_eq!(resp.status(), 500);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"]["type"], "server_error");
    sim.shutdown().await;
}

#[tokio::test]
async fn configured_probability_applies_and_header_none_overrides() {
    let mut config = SimConfig::instant();
    config.faults.rate_429 = 1.0;
    let sim = sim(config).await;
    for _ in 0..3 {
        let resp = post(&sim, "/v1/chat/completions", &chat(2, false), &[]).await;
        assert_eq!(resp.status(), 429);
    }
    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(2, false),
        &[("x-sim-fault", "none")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    sim.shutdown().await;
}

/// Reads a body until it errors or ends; returns what arrived and whether it failed.
async fn read_all(mut resp: reqwest::Response) -> (String, bool) {
    let mut got = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (String::from_utf8(got).unwrap(), false),
            Err(_) => return (String::from_utf8(got).unwrap(), true),
        }
    }
}

#[tokio::test]
async fn reset_cuts_the_body_after_a_few_tokens() {
    let sim = sim(SimConfig::instant()).await;
    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "reset")],
    )
    .await;
    assert_eq!(resp.status(), 200, "headers arrive before the reset");
    let (text, failed) = read_all(resp).await;
    assert!(failed, "body must fail, got {text:?}");
    let (events, done) = json_events(&text);
    assert!(!done);
    assert_eq!(token_events(&events), 3, "{text}");

    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, false),
        &[("x-sim-fault", "reset")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err(), "non-streamed body fails too");
    sim.shutdown().await;
}

#[tokio::test]
async fn truncate_ends_cleanly_without_finish_usage_or_done() {
    let sim = sim(SimConfig::instant()).await;
    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "truncate")],
    )
    .await;
    let (text, failed) = read_all(resp).await;
    assert!(!failed, "clean end");
    let (events, done) = json_events(&text);
    assert!(!done, "{text}");
    assert_eq!(token_events(&events), 3);
    assert!(events.iter().all(|e| e.get("usage").is_none()));
    assert!(
        events
            .iter()
            .all(|e| e["choices"][0]["finish_reason"].is_null())
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_inserts_one_unparsable_event() {
    let sim = sim(SimConfig::instant()).await;
    let text = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "malformed")],
    )
    .await
    .text()
    .await
    .unwrap();
    let lines = data_lines(&text);
    let bad: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| *l != "[DONE]" && serde_json::from_str::<Value>(l).is_err())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(bad.len(), 1, "{text}");
    assert_eq!(bad[0], 4, "after the role chunk and 3 tokens");
    assert_eq!(lines.last().unwrap(), "[DONE]");

    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, false),
        &[("x-sim-fault", "malformed")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.json::<Value>().await.is_err());
    sim.shutdown().await;
}

#[tokio::test]
async fn stream_error_sends_an_error_event_and_ends() {
    let sim = sim(SimConfig::instant()).await;
    let text = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "stream_error")],
    )
    .await
    .text()
    .await
    .unwrap();
    let (events, done) = json_events(&text);
    assert!(!done);
    assert_eq!(token_events(&events), 3);
    let last = events.last().unwrap();
    assert_eq!(last["error"]["message"], "simulated overload");
    assert_eq!(last["error"]["code"], 500);

    let resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, false),
        &[("x-sim-fault", "stream_error")],
    )
    .await;
    assert_eq!(resp.status(), 500);
    sim.shutdown().await;
}

#[tokio::test]
async fn stall_sends_nothing_more_until_shutdown_resets() {
    let sim = sim(SimConfig::instant()).await;
    let mut resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "stall")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let mut got = String::new();
    while token_events(&json_events(&got).0) < 3 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
            .await
            .expect("the first tokens arrive")
            .unwrap()
            .unwrap();
        got.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let next = tokio::time::timeout(Duration::from_millis(300), resp.chunk()).await;
    assert!(next.is_err(), "nothing after the stall point: {next:?}");
    assert_eq!(token_events(&json_events(&got).0), 3);

    sim.shutdown().await;
    let after = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
        .await
        .expect("shutdown ends the stall");
    assert!(after.is_err(), "a stall ends in a reset: {after:?}");
}

#[tokio::test]
async fn stalled_answer_is_released_when_the_client_gives_up() {
    let mut config = SimConfig::instant();
    config.record_truth = true;
    let sim = sim(config).await;
    let mut resp = post(
        &sim,
        "/v1/chat/completions",
        &chat(10, true),
        &[("x-sim-fault", "stall"), ("x-request-id", "quitter")],
    )
    .await;
    resp.chunk().await.unwrap().unwrap();
    drop(resp);
    // The server notices the closed connection and drops the body, filing its truth entry.
    let mut entry = None;
    for _ in 0..200 {
        entry = sim.truth.get("quitter");
        if entry.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let entry = entry.expect("stalled body dropped after the client left");
    assert_eq!(entry.token_chunks.len(), 3);
    sim.shutdown().await;
}
