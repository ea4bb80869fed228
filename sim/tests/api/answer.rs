//! Non-streamed answers and output length.

use llm_sim::{Dist, ReasoningMode, SimConfig};
use serde_json::{Value, json};

use crate::helpers::{chat, post, sim};

#[tokio::test]
async fn chat_answer_shape_and_usage() {
    let sim = sim(SimConfig::instant()).await;
    let resp = post(&sim, "/v1/chat/completions", &chat(4, false), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert!(resp.headers().contains_key("content-length"));
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "test-model");
    let choice = &v["choices"][0];
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "lorem ipsum dolor sit "})
    );
    assert_eq!(choice["finish_reason"], "length");
    assert_eq!(v["usage"]["prompt_tokens"], 5);
    assert_eq!(v["usage"]["completion_tokens"], 4);
    assert_eq!(v["usage"]["total_tokens"], 9);
    sim.shutdown().await;
}

#[tokio::test]
async fn completion_answer_shape() {
    let sim = sim(SimConfig::instant()).await;
    let body = json!({"prompt": [1, 2, 3, 4, 5, 6], "max_completion_tokens": 2});
    let v: Value = post(&sim, "/v1/completions", &body, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "text_completion");
    assert!(v["id"].as_str().unwrap().starts_with("cmpl-"));
    assert_eq!(v["choices"][0]["text"], "lorem ipsum ");
    assert_eq!(v["usage"]["prompt_tokens"], 6);
    assert_eq!(v["usage"]["completion_tokens"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn default_max_tokens_and_field_reasoning_in_answer() {
    let mut config = SimConfig::instant();
    config.output.default_max_tokens = 3;
    config.reasoning.mode = ReasoningMode::Field;
    config.reasoning.tokens = 2;
    let sim = sim(config).await;
    let body = json!({"messages": [{"role": "user", "content": "x"}]});
    let v: Value = post(&sim, "/v1/chat/completions", &body, &[])
        .await
        .json()
        .await
        .unwrap();
    let message = &v["choices"][0]["message"];
    assert_eq!(message["reasoning_content"], "lorem ipsum ");
    assert_eq!(message["content"], "dolor ");
    assert_eq!(v["usage"]["completion_tokens"], 3);
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        2
    );
    sim.shutdown().await;
}

/// Completion lengths of `count` sequential requests to a fresh server.
async fn lengths(config: SimConfig, count: usize) -> Vec<u64> {
    let sim = sim(config).await;
    let body = json!({"prompt": "p", "max_tokens": 40, "min_tokens": 5});
    let mut out = Vec::new();
    for _ in 0..count {
        let v: Value = post(&sim, "/v1/completions", &body, &[])
            .await
            .json()
            .await
            .unwrap();
        let n = v["usage"]["completion_tokens"].as_u64().unwrap();
        let words = v["choices"][0]["text"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .count();
        assert_eq!(words as u64, n, "one word per token");
        let finish = if n == 40 { "length" } else { "stop" };
        assert_eq!(v["choices"][0]["finish_reason"], finish);
        out.push(n);
    }
    sim.shutdown().await;
    out
}

#[tokio::test]
async fn sampled_lengths_are_seeded_and_clamped() {
    let mut config = SimConfig::instant();
    config.seed = 1234;
    config.output.length = Some(Dist::Normal {
        mean: 20.0,
        std: 15.0,
    });
    let a = lengths(config.clone(), 30).await;
    assert!(a.iter().all(|n| (5..=40).contains(n)), "{a:?}");
    assert!(a.iter().any(|n| *n != a[0]), "lengths vary: {a:?}");
    assert_eq!(
        a,
        lengths(config.clone(), 30).await,
        "same seed, same lengths"
    );
    config.seed = 4321;
    assert_ne!(a, lengths(config, 30).await, "other seed, other lengths");
}
