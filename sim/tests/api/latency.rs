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

#[tokio::test]
async fn capacity_queues_answers_beyond_max_concurrent() {
    let mut config = config();
    config.latency.ttft_ms = Dist::fixed(40.0);
    config.latency.itl_ms = Dist::fixed(10.0);
    config.capacity = Some(llm_sim::CapacityConfig {
        max_concurrent: 2,
        itl_per_extra_ms: 0.0,
    });
    let sim = sim(config).await;
    // 3 at once, 2 slots: one waits for a whole answer (40 + 4 x 10 ms) before its own TTFT
    let send = |id: &'static str| {
        let sim = &sim;
        async move {
            let body = json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true});
            post(sim, "/v1/chat/completions", &body, &[("x-request-id", id)])
                .await
                .text()
                .await
                .unwrap();
        }
    };
    tokio::join!(send("c1"), send("c2"), send("c3"));
    let mut firsts: Vec<Duration> = ["c1", "c2", "c3"]
        .iter()
        .map(|id| {
            let e = sim.truth.get(id).unwrap();
            e.chunk_sent[e.token_chunks[0]] - e.received
        })
        .collect();
    firsts.sort();
    assert!(firsts[1] < Duration::from_millis(75), "{firsts:?}");
    assert!(
        firsts[2] >= Duration::from_millis(120),
        "queued: {firsts:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn capacity_can_stretch_gaps_with_the_batch() {
    let mut config = config();
    config.latency.ttft_ms = Dist::fixed(0.0);
    config.latency.itl_ms = Dist::fixed(5.0);
    config.capacity = Some(llm_sim::CapacityConfig {
        max_concurrent: 8,
        itl_per_extra_ms: 10.0,
    });
    let sim = sim(config).await;
    let send = |id: &'static str| {
        let sim = &sim;
        async move {
            let body = json!({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": true});
            post(sim, "/v1/chat/completions", &body, &[("x-request-id", id)])
                .await
                .text()
                .await
                .unwrap();
        }
    };
    tokio::join!(send("b1"), send("b2"), send("b3"));
    for id in ["b1", "b2", "b3"] {
        let e = sim.truth.get(id).unwrap();
        let last = e.chunk_sent[*e.token_chunks.last().unwrap()] - e.chunk_sent[e.token_chunks[0]];
        // 5 gaps of 5 ms, plus 10 ms per other answer generating at the time
        assert!(last >= Duration::from_millis(25), "{id}: {last:?}");
    }
    let stretched = ["b1", "b2", "b3"].iter().any(|id| {
        let e = sim.truth.get(id).unwrap();
        e.chunk_sent[*e.token_chunks.last().unwrap()] - e.chunk_sent[e.token_chunks[0]]
            >= Duration::from_millis(60)
    });
    assert!(stretched, "gaps grow while others generate");
    sim.shutdown().await;
}
