//! The latency model, checked against the server's own truth log.

use std::time::Duration;

use llm_sim::{Dist, SimConfig};
use serde_json::json;

use crate::helpers::{post, sim};

fn config() -> SimConfig {
    let mut config = SimConfig::default();
    config.latency.ttft_ms = Dist::fixed(50.0);
    config.latency.itl_ms = Dist::fixed(10.0);
    config.record_truth = true;
    config
}

#[tokio::test]
async fn streamed_tokens_follow_the_schedule() {
    let sim = sim(config()).await;
    let body =
        json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": true});
    post(
        &sim,
        "/v1/chat/completions",
        &body,
        &[("x-request-id", "lat-1")],
    )
    .await
    .text()
    .await
    .unwrap();
    let e = sim.truth.get("lat-1").unwrap();
    assert_eq!(e.token_chunks, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(e.chunk_sent.len(), 8, "role, 6 tokens, [DONE]");
    assert_eq!(
        e.chunk_sent[0], e.chunk_sent[1],
        "role chunk goes with the first token"
    );
    for (i, &k) in e.token_chunks.iter().enumerate() {
        let at = e.chunk_sent[k] - e.received;
        let due = Duration::from_millis(50 + 10 * i as u64);
        assert!(at >= due, "token {i} sent at {at:?}, due {due:?}");
        assert!(
            at < due + Duration::from_millis(1000),
            "token {i} sent at {at:?}, due {due:?}"
        );
    }
    // Gaps can be shorter than 10 ms when a late token is followed by an on-time one (the
    // schedule is absolute and catches up), so only order and the lower bounds above are exact.
    assert!(e.chunk_sent.windows(2).all(|w| w[0] <= w[1]), "{e:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn ttft_grows_with_prompt_and_answers_wait_for_the_last_token() {
    let mut config = config();
    config.latency.ttft_per_prompt_token_us = 3000.0;
    let sim = sim(config).await;
    let prompt = "one two three four five six seven eight nine ten";
    let body = json!({"prompt": prompt, "max_tokens": 5, "stream": true});
    post(&sim, "/v1/completions", &body, &[("x-request-id", "long")])
        .await
        .text()
        .await
        .unwrap();
    let e = sim.truth.get("long").unwrap();
    let first = e.chunk_sent[e.token_chunks[0]] - e.received;
    assert!(
        first >= Duration::from_millis(80),
        "50 ms + 10 x 3 ms, got {first:?}"
    );

    let body = json!({"prompt": "x", "max_tokens": 5});
    post(&sim, "/v1/completions", &body, &[("x-request-id", "whole")])
        .await
        .text()
        .await
        .unwrap();
    let e = sim.truth.get("whole").unwrap();
    let at = e.chunk_sent[0] - e.received;
    assert!(
        at >= Duration::from_millis(50 + 3 + 40),
        "ttft + 4 gaps, got {at:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn sampled_gaps_are_bounded_by_the_distribution() {
    let mut config = config();
    config.latency.ttft_ms = Dist::fixed(0.0);
    config.latency.itl_ms = Dist::Uniform {
        min: 5.0,
        max: 15.0,
    };
    let sim = sim(config).await;
    let body = json!({"prompt": "x", "max_tokens": 8, "stream": true});
    post(&sim, "/v1/completions", &body, &[("x-request-id", "u")])
        .await
        .text()
        .await
        .unwrap();
    let e = sim.truth.get("u").unwrap();
    let last = e.chunk_sent[*e.token_chunks.last().unwrap()] - e.received;
    assert!(
        last >= Duration::from_millis(35),
        "7 gaps of at least 5 ms, got {last:?}"
    );
    sim.shutdown().await;
}
