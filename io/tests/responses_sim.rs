//! The endpoint client against llm-sim's `/v1/responses` over loopback: the sim knows the true
//! token counts and schedule, so the record must match them.

use std::net::SocketAddr;

use bytes::Bytes;
use llm_sim::{Dist, ReasoningMode, SimConfig, SimHandle};
use serde_json::Value;
use swarm_common::metrics::{ErrorClass, TokenSource};
use swarm_common::prompt::Prompt;
use swarm_common::shard::{ApiKind, GenParams, TargetSpec};
use swarm_io::client::EndpointClient;
use swarm_io::client::body::request_body;
use tokio_util::sync::CancellationToken;

const TTFT_MS: u64 = 50;
const ITL_MS: u64 = 10;
const TOKENS: u32 = 8;
const REASONING: u32 = 3;

async fn sim() -> SimHandle {
    let mut config = SimConfig::default();
    config.latency.ttft_ms = Dist::fixed(TTFT_MS as f64);
    config.latency.itl_ms = Dist::fixed(ITL_MS as f64);
    config.output.length = Some(Dist::fixed(f64::from(TOKENS)));
    config.reasoning.mode = ReasoningMode::Field;
    config.reasoning.tokens = REASONING;
    config.record_truth = true;
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    llm_sim::start(config, bind, CancellationToken::new())
        .await
        .expect("sim starts")
}

fn client(sim: &SimHandle, headers: Vec<(String, String)>) -> EndpointClient {
    let (api, url) = ApiKind::from_flag("openai_responses", &sim.url()).expect("known api");
    assert_eq!(api, ApiKind::Responses);
    assert!(url.ends_with("/v1/responses"), "{url}");
    let target = TargetSpec {
        url,
        api,
        model: "m".into(),
        api_key: None,
        headers,
        connect_timeout_s: 5.0,
        read_timeout_s: 5.0,
        total_timeout_s: 10.0,
        transport: Default::default(),
    };
    EndpointClient::new(&target, None, 1).expect("client")
}

fn body(prompt: &Prompt, stream: bool) -> Bytes {
    let g = GenParams {
        stream,
        max_tokens: Some(64),
        temperature: Some(0.0),
        ..Default::default()
    };
    Bytes::from(Value::Object(request_body(prompt, ApiKind::Responses, "m", &g)).to_string())
}

#[tokio::test]
async fn streamed_response_is_measured_like_chat() {
    let sim = sim().await;
    let client = client(&sim, Vec::new());
    let prompt = Prompt::text("one two three");
    let (rec, text) = client
        .complete(
            body(&prompt, true),
            "resp-1",
            &prompt,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(rec.error, None, "{:?}", rec.error_detail);
    assert_eq!(rec.status, 200);
    assert_eq!(rec.token_source, TokenSource::Usage);
    assert_eq!(
        (
            rec.prompt_tokens,
            rec.completion_tokens,
            rec.reasoning_tokens
        ),
        (3, TOKENS, REASONING)
    );
    // one chunk per token: the reasoning summary deltas and the answer deltas
    assert_eq!(rec.chunk_us.len(), TOKENS as usize);
    let ttft = rec.ttft_us.expect("ttft");
    let ttfo = rec.ttfo_us.expect("ttfo");
    // TTFT is the first reasoning delta (token 0); TTFO the first answer delta (token 3)
    assert!(ttft >= TTFT_MS * 1000, "ttft {ttft}");
    assert!(ttft < TTFT_MS * 1000 + 1_000_000, "ttft {ttft}");
    let first_answer_due = (TTFT_MS + ITL_MS * u64::from(REASONING)) * 1000;
    assert!(ttfo >= first_answer_due, "ttfo {ttfo}");
    assert!(ttfo > ttft);
    assert_eq!(rec.chunk_us[0], ttft);
    assert_eq!(rec.chunk_us[REASONING as usize], ttfo);
    let last_due = (TTFT_MS + ITL_MS * u64::from(TOKENS - 1)) * 1000;
    assert!(rec.latency_us >= last_due, "latency {}", rec.latency_us);
    assert!(
        !text.reasoning.is_empty() && !text.answer.is_empty(),
        "{text:?}"
    );
    let truth = sim.truth.get("resp-1").expect("truth entry");
    assert_eq!(truth.token_chunks.len(), TOKENS as usize);
    assert_eq!(truth.prompt_tokens, 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn whole_response_is_measured_at_its_arrival() {
    let sim = sim().await;
    let client = client(&sim, Vec::new());
    let prompt = Prompt::text("a b c d e");
    let (rec, text) = client
        .complete(
            body(&prompt, false),
            "resp-2",
            &prompt,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(rec.error, None, "{:?}", rec.error_detail);
    assert_eq!(rec.token_source, TokenSource::Usage);
    assert_eq!(
        (
            rec.prompt_tokens,
            rec.completion_tokens,
            rec.reasoning_tokens
        ),
        (5, TOKENS, REASONING)
    );
    let ttft = rec.ttft_us.expect("ttft");
    // the whole answer comes when its last token would have been generated
    let last_due = (TTFT_MS + ITL_MS * u64::from(TOKENS - 1)) * 1000;
    assert!(ttft >= last_due, "ttft {ttft}");
    assert_eq!(rec.ttfo_us, Some(ttft));
    assert_eq!(rec.chunk_us, vec![ttft]);
    assert!(
        !text.reasoning.is_empty() && !text.answer.is_empty(),
        "{text:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn stream_error_event_is_a_stream_error() {
    let sim = sim().await;
    let client = client(
        &sim,
        vec![("x-sim-fault".to_string(), "stream_error".to_string())],
    );
    let prompt = Prompt::text("hi");
    let rec = client
        .send(
            body(&prompt, true),
            "resp-3",
            &prompt,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(
        rec.error,
        Some(ErrorClass::StreamError),
        "{:?}",
        rec.error_detail
    );
    assert!(
        rec.error_detail
            .as_deref()
            .is_some_and(|d| d.contains("simulated overload")),
        "{:?}",
        rec.error_detail
    );
    sim.shutdown().await;
}
