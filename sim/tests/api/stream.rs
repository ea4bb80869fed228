//! Streamed answers: event order and shape, usage, reasoning modes.

use llm_sim::{ReasoningMode, SimConfig};
use serde_json::json;

use crate::helpers::{chat, json_events, post, sim};

#[tokio::test]
async fn chat_stream_shape_and_usage() {
    let sim = sim(SimConfig::instant()).await;
    let resp = post(&sim, "/v1/chat/completions", &chat(5, true), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let (events, done) = json_events(&resp.text().await.unwrap());
    assert!(done, "stream ends with [DONE]");
    // role, 5 tokens, usage
    assert_eq!(events.len(), 7, "{events:#?}");

    let id = events[0]["id"].as_str().unwrap();
    assert!(id.starts_with("chatcmpl-"), "{id}");
    for e in &events {
        assert_eq!(e["id"], id);
        assert_eq!(e["object"], "chat.completion.chunk");
        assert_eq!(e["model"], "test-model");
        assert!(e["created"].as_u64().unwrap() > 1_600_000_000);
    }
    assert_eq!(
        events[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let mut text = String::new();
    for (i, e) in events[1..6].iter().enumerate() {
        let choice = &e["choices"][0];
        text.push_str(choice["delta"]["content"].as_str().unwrap());
        let finish = if i == 4 { json!("length") } else { json!(null) };
        assert_eq!(choice["finish_reason"], finish, "token {i}");
    }
    assert_eq!(text, "lorem ipsum dolor sit amet ");

    let usage = &events[6];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(
        usage["usage"],
        json!({
            "prompt_tokens": 5,
            "completion_tokens": 5,
            "total_tokens": 10,
            "completion_tokens_details": {"reasoning_tokens": 0},
            "prompt_tokens_details": {"cached_tokens": 0},
        })
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn chat_stream_without_usage_option_has_no_usage_chunk() {
    let sim = sim(SimConfig::instant()).await;
    let body =
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": true, "max_tokens": 3});
    let text = post(&sim, "/v1/chat/completions", &body, &[])
        .await
        .text()
        .await
        .unwrap();
    let (events, done) = json_events(&text);
    assert!(done);
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.get("usage").is_none()));
    assert_eq!(
        events[3]["model"], "sim-model",
        "configured model when none asked"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn completion_stream_shape() {
    let sim = sim(SimConfig::instant()).await;
    let body = json!({
        "model": "m", "prompt": ["one two", "three"], "max_tokens": 4, "stream": true,
        "stream_options": {"include_usage": true},
    });
    let text = post(&sim, "/v1/completions", &body, &[])
        .await
        .text()
        .await
        .unwrap();
    let (events, done) = json_events(&text);
    assert!(done);
    assert_eq!(events.len(), 5, "4 tokens and usage, no role chunk");
    let texts: Vec<&str> = events[..4]
        .iter()
        .map(|e| {
            assert_eq!(e["object"], "text_completion");
            e["choices"][0]["text"].as_str().unwrap()
        })
        .collect();
    assert_eq!(texts, ["lorem ", "ipsum ", "dolor ", "sit "]);
    assert_eq!(events[3]["choices"][0]["finish_reason"], "length");
    assert_eq!(events[4]["usage"]["prompt_tokens"], 3);
    assert_eq!(events[4]["usage"]["completion_tokens"], 4);
    sim.shutdown().await;
}

#[tokio::test]
async fn reasoning_field_mode_streams_reasoning_content_first() {
    let mut config = SimConfig::instant();
    config.reasoning.mode = ReasoningMode::Field;
    config.reasoning.tokens = 3;
    let sim = sim(config).await;
    let text = post(&sim, "/v1/chat/completions", &chat(5, true), &[])
        .await
        .text()
        .await
        .unwrap();
    let (events, _) = json_events(&text);
    let deltas: Vec<_> = events[1..6]
        .iter()
        .map(|e| &e["choices"][0]["delta"])
        .collect();
    for d in &deltas[..3] {
        assert!(d["reasoning_content"].is_string(), "{d}");
        assert!(d.get("content").is_none(), "{d}");
    }
    for d in &deltas[3..] {
        assert!(d["content"].is_string(), "{d}");
        assert!(d.get("reasoning_content").is_none(), "{d}");
    }
    let usage = &events[6]["usage"];
    assert_eq!(usage["completion_tokens"], 5);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn reasoning_think_tags_mode_wraps_reasoning_in_content() {
    let mut config = SimConfig::instant();
    config.reasoning.mode = ReasoningMode::ThinkTags;
    config.reasoning.tokens = 4;
    let sim = sim(config).await;
    let text = post(&sim, "/v1/chat/completions", &chat(6, true), &[])
        .await
        .text()
        .await
        .unwrap();
    let (events, _) = json_events(&text);
    let content: Vec<&str> = events[1..7]
        .iter()
        .map(|e| e["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        content,
        [
            "<think>",
            "ipsum ",
            "dolor ",
            "</think>",
            "amet ",
            "consectetur "
        ]
    );
    assert_eq!(
        events[7]["usage"]["completion_tokens_details"]["reasoning_tokens"],
        4
    );
    sim.shutdown().await;
}
