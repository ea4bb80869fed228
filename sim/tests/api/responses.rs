//! `/v1/responses` (the OpenAI Responses API): typed stream events, the whole `response`
//! object, usage, reasoning summaries and the stream-error fault.

use llm_sim::{Dist, ReasoningMode, SimConfig};
use serde_json::{Value, json};

use crate::helpers::{post, sim};

/// (event name, data) of each event of a typed SSE body.
fn typed_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e
                .strip_prefix("event: ")
                .and_then(|rest| rest.split_once("\ndata: "))
                .unwrap_or_else(|| panic!("event without a name and data: {e:?}"));
            let data: Value =
                serde_json::from_str(data).unwrap_or_else(|err| panic!("bad data {data:?}: {err}"));
            assert_eq!(data["type"], name, "event name and type agree");
            (name.to_owned(), data)
        })
        .collect()
}

fn request(max: u32, stream: bool) -> Value {
    json!({
        "model": "test-model",
        "input": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "input_text", "text": "hello there sim"}]},
        ],
        "max_output_tokens": max,
        "stream": stream,
    })
}

#[tokio::test]
async fn streamed_response_has_deltas_then_completion_with_usage() {
    let sim = sim(SimConfig::default()).await;
    let resp = post(&sim, "/v1/responses", &request(5, true), &[]).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = resp.text().await.unwrap();
    assert!(!text.contains("[DONE]"), "{text}");
    let events = typed_events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names[0], "response.created");
    assert_eq!(names[1..6], ["response.output_text.delta"; 5], "{names:?}");
    assert_eq!(names.len(), 7, "{names:?}");
    let (last, data) = &events[6];
    // the answer hit max_output_tokens
    assert_eq!(last, "response.incomplete");
    assert_eq!(data["response"]["status"], "incomplete");
    assert_eq!(data["response"]["model"], "test-model");
    let usage = &data["response"]["usage"];
    assert_eq!(usage["input_tokens"], 5);
    assert_eq!(usage["output_tokens"], 5);
    assert_eq!(usage["total_tokens"], 10);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 0);
    for (_, d) in &events[1..6] {
        assert!(d["delta"].as_str().is_some_and(|s| !s.is_empty()), "{d}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn reasoning_field_mode_streams_summary_deltas_first() {
    let mut config = SimConfig::default();
    config.reasoning.mode = ReasoningMode::Field;
    config.reasoning.tokens = 3;
    config.output.length = Some(Dist::fixed(6.0));
    let sim = sim(config).await;
    let text = post(&sim, "/v1/responses", &request(10, true), &[])
        .await
        .text()
        .await
        .unwrap();
    let events = typed_events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.completed",
        ]
    );
    let usage = &events[7].1["response"]["usage"];
    assert_eq!(usage["output_tokens"], 6);
    assert_eq!(usage["output_tokens_details"]["reasoning_tokens"], 3);
    assert_eq!(events[7].1["response"]["status"], "completed");
    sim.shutdown().await;
}

#[tokio::test]
async fn whole_response_has_output_items_and_usage() {
    let mut config = SimConfig::default();
    config.reasoning.mode = ReasoningMode::Field;
    config.reasoning.tokens = 2;
    let sim = sim(config).await;
    let resp = post(&sim, "/v1/responses", &request(4, false), &[]).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "incomplete");
    assert_eq!(v["output"][0]["type"], "reasoning");
    assert!(
        v["output"][0]["summary"][0]["text"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(v["output"][1]["type"], "message");
    assert_eq!(v["output"][1]["content"][0]["type"], "output_text");
    assert!(
        v["output"][1]["content"][0]["text"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(v["usage"]["input_tokens"], 5);
    assert_eq!(v["usage"]["output_tokens"], 4);
    assert_eq!(v["usage"]["output_tokens_details"]["reasoning_tokens"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn string_input_is_counted_and_missing_input_refused() {
    let sim = sim(SimConfig::default()).await;
    let body = json!({"model": "m", "input": "one two three four", "max_output_tokens": 2});
    let v: Value = post(&sim, "/v1/responses", &body, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["usage"]["input_tokens"], 4);
    let resp = post(&sim, "/v1/responses", &json!({"model": "m"}), &[]).await;
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("input"),
        "{v}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn stream_error_fault_is_a_typed_error_event() {
    let sim = sim(SimConfig::default()).await;
    let text = post(
        &sim,
        "/v1/responses",
        &request(4, true),
        &[("x-sim-fault", "stream_error")],
    )
    .await
    .text()
    .await
    .unwrap();
    let events = typed_events(&text);
    let (name, data) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(data["code"], "server_error");
    sim.shutdown().await;
}
