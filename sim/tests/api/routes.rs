//! Routing, bad requests, models and health, truth defaults.

use llm_sim::SimConfig;
use serde_json::{Value, json};

use crate::helpers::{chat, client, post, sim};

async fn error_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn invalid_requests_get_openai_400s() {
    let sim = sim(SimConfig::instant()).await;
    let c = client();
    let url = format!("{}/v1/chat/completions", sim.url());

    let (status, v) = error_of(c.post(&url).body("{nope").send().await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(v["error"]["code"], 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid request body"),
        "{v}"
    );

    let (status, v) =
        error_of(post(&sim, "/v1/chat/completions", &json!({"prompt": "x"}), &[]).await).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["message"], "missing field `messages`");

    let (status, v) = error_of(
        post(
            &sim,
            "/v1/completions",
            &json!({"prompt": "x", "max_tokens": 0}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens"),
        "{v}"
    );

    let (status, v) = error_of(
        post(
            &sim,
            "/v1/chat/completions",
            &chat(2, false),
            &[("x-sim-fault", "meteor")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("meteor"),
        "{v}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn models_health_and_unknown_routes() {
    let mut config = SimConfig::instant();
    config.model = "my-model".into();
    let sim = sim(config).await;
    let c = client();

    let v: Value = c
        .get(format!("{}/v1/models", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "my-model");

    let health = c.get(format!("{}/health", sim.url())).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let (status, v) = error_of(
        c.get(format!("{}/v2/nothing", sim.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v2/nothing"),
        "{v}"
    );

    let resp = c
        .get(format!("{}/v1/completions", sim.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn truth_is_off_by_default_and_keys_by_request_id() {
    let off = sim(SimConfig::instant()).await;
    post(
        &off,
        "/v1/chat/completions",
        &chat(2, true),
        &[("x-request-id", "a")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(off.truth.is_empty());
    off.shutdown().await;

    let mut config = SimConfig::instant();
    config.record_truth = true;
    let on = sim(config).await;
    let resp = post(
        &on,
        "/v1/chat/completions",
        &chat(2, true),
        &[("x-request-id", "req-7")],
    )
    .await;
    assert_eq!(resp.headers()["x-request-id"], "req-7");
    resp.text().await.unwrap();
    let v: Value = post(
        &on,
        "/v1/completions",
        &json!({"prompt": "x", "max_tokens": 2}),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(on.truth.len(), 2);
    // role, 2 tokens, usage, [DONE]
    let e = on.truth.get("req-7").unwrap();
    assert_eq!(e.chunk_sent.len(), 5);
    assert_eq!(e.token_chunks, vec![1, 2]);
    // without x-request-id the response id is the key; a non-streamed answer is one chunk
    let e = on.truth.get(v["id"].as_str().unwrap()).unwrap();
    assert_eq!(e.token_chunks, vec![0]);
    assert!(e.chunk_sent[0] >= e.received);
    on.shutdown().await;
}

#[tokio::test]
async fn keep_alive_serves_many_requests_per_connection_and_shutdown_closes() {
    let sim = sim(SimConfig::instant()).await;
    let _ = client();
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let url = format!("{}/v1/chat/completions", sim.url());
    for _ in 0..20 {
        let text = c
            .post(&url)
            .json(&chat(8, true))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"));
    }
    let url_health = format!("{}/health", sim.url());
    sim.shutdown().await;
    assert!(
        client().get(url_health).send().await.is_err(),
        "no longer listening"
    );
}
