//! Every simulator fault is classified as the error class a user would expect, and nothing
//! measured before the fault is lost.

use bytes::Bytes;
use llm_sim::SimConfig;
use swarm_common::metrics::ErrorClass;
use swarm_common::prompt::Prompt;
use swarm_common::shard::{ApiKind, GenParams};
use swarm_io::client::EndpointClient;
use swarm_io::client::body::request_body;
use swarm_tests::{sim_target, start_sim};
use tokio_util::sync::CancellationToken;

async fn send_with_fault(
    fault: &str,
    stream: bool,
    read_timeout_s: f64,
) -> swarm_common::metrics::RequestRecord {
    send_with_timeouts(fault, stream, read_timeout_s, 30.0).await
}

async fn send_with_timeouts(
    fault: &str,
    stream: bool,
    read_timeout_s: f64,
    total_timeout_s: f64,
) -> swarm_common::metrics::RequestRecord {
    let mut cfg = SimConfig::instant();
    cfg.faults.stall_max_ms = 5_000;
    cfg.faults.dribble_ms = 2;
    let sim = start_sim(cfg).await;
    let mut target = sim_target(&sim, ApiKind::Chat);
    target.read_timeout_s = read_timeout_s;
    target.total_timeout_s = total_timeout_s;
    target.headers.push(("x-sim-fault".into(), fault.into()));
    let client = EndpointClient::new(&target, None, 4).expect("client");
    let prompt = Prompt::text("hello there");
    let g = GenParams {
        stream,
        max_tokens: Some(16),
        ..Default::default()
    };
    let body = serde_json::Value::Object(request_body(&prompt, ApiKind::Chat, "sim-model", &g))
        .to_string();
    let rec = client
        .send(Bytes::from(body), "t-1", &prompt, &CancellationToken::new())
        .await;
    sim.shutdown().await;
    rec
}

#[tokio::test]
async fn each_fault_has_its_class() {
    let cases = [
        ("none", None),
        ("429", Some(ErrorClass::Http4xx)),
        ("500", Some(ErrorClass::Http5xx)),
        ("reset", Some(ErrorClass::Reset)),
        ("stall", Some(ErrorClass::Timeout)),
        ("malformed", Some(ErrorClass::Malformed)),
        ("truncate", Some(ErrorClass::Truncated)),
        ("stream_error", Some(ErrorClass::StreamError)),
    ];
    for (fault, want) in cases {
        let rec = send_with_fault(fault, true, 0.5).await;
        assert_eq!(rec.error, want, "fault {fault}: {:?}", rec.error_detail);
        match want {
            None => {
                assert_eq!(rec.completion_tokens, 16);
                assert_eq!(rec.chunk_us.len(), 16);
                assert_eq!(rec.status, 200);
            }
            Some(ErrorClass::Http4xx) => {
                assert_eq!(rec.status, 429);
                let detail = rec.error_detail.unwrap_or_default();
                assert!(detail.contains("429"), "{detail}");
            }
            Some(ErrorClass::Http5xx) => assert_eq!(rec.status, 500),
            Some(_) => {
                // mid-stream faults come after `after_tokens` (3) tokens: those chunks were timed
                assert_eq!(rec.status, 200, "fault {fault}");
                assert!(rec.ttft_us.is_some(), "fault {fault}: ttft kept");
                assert!(
                    rec.chunk_us.len() >= 3,
                    "fault {fault}: {} chunks kept",
                    rec.chunk_us.len()
                );
            }
        }
    }
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    for stream in [true, false] {
        let rec = send_with_timeouts("hang", stream, 0.5, 30.0).await;
        assert_eq!(
            rec.error,
            Some(ErrorClass::Timeout),
            "{:?}",
            rec.error_detail
        );
        assert_eq!(rec.ttft_us, None);
        assert_eq!(rec.status, 0, "no status line ever arrived");
        // the read timeout ended it, long before the server's 5 s hang
        assert!(
            rec.latency_us >= 400_000 && rec.latency_us < 4_000_000,
            "{}",
            rec.latency_us
        );
    }
}

#[tokio::test]
async fn a_slow_loris_server_meets_the_total_timeout() {
    // one byte every 2 ms never trips the 0.5 s read timeout; the 2.5 s total timeout ends it
    let rec = send_with_timeouts("slow_loris", true, 0.5, 2.5).await;
    assert_eq!(
        rec.error,
        Some(ErrorClass::Timeout),
        "{:?}",
        rec.error_detail
    );
    assert_eq!(rec.status, 200);
    assert!(
        rec.latency_us >= 2_400_000 && rec.latency_us < 6_000_000,
        "{}",
        rec.latency_us
    );
    // what arrived before the deadline is kept: at least the first chunk was timed
    assert!(rec.ttft_us.is_some(), "first chunk kept");
    let detail = rec.error_detail.unwrap_or_default();
    assert!(detail.contains("total"), "{detail}");
}

#[tokio::test]
async fn non_streaming_faults() {
    let ok = send_with_fault("none", false, 5.0).await;
    assert_eq!(ok.error, None, "{:?}", ok.error_detail);
    assert_eq!(ok.completion_tokens, 16);
    assert_eq!(ok.ttft_us, Some(ok.latency_us));
    let e = send_with_fault("500", false, 5.0).await;
    assert_eq!(e.error, Some(ErrorClass::Http5xx));
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    swarm_io::tls::install_crypto_provider();
    // bind then drop a listener so the port is (almost certainly) closed
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let target = swarm_common::shard::TargetSpec {
        url: format!("http://127.0.0.1:{port}/v1/chat/completions"),
        api: ApiKind::Chat,
        model: "m".into(),
        api_key: None,
        headers: vec![],
        connect_timeout_s: 2.0,
        read_timeout_s: 2.0,
        total_timeout_s: 5.0,
        transport: Default::default(),
    };
    let client = EndpointClient::new(&target, None, 1).expect("client");
    let prompt = Prompt::text("x");
    let rec = client
        .send(
            Bytes::from_static(b"{}"),
            "r",
            &prompt,
            &CancellationToken::new(),
        )
        .await;
    assert_eq!(
        rec.error,
        Some(ErrorClass::Connect),
        "{:?}",
        rec.error_detail
    );
    assert_eq!(rec.status, 0);
}
