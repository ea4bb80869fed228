//! The stream shapes real servers send (fixtures/streams/, see its README), replayed through the
//! SSE parser and meter in every way TCP could split them, and over real HTTP through
//! `EndpointClient::send`.

use crate::support;

use std::path::PathBuf;

use bytes::Bytes;
use swarm_common::metrics::{ErrorClass, RequestRecord, TokenSource};
use swarm_common::prompt::Prompt;
use swarm_common::shard::{ApiKind, TargetSpec};
use swarm_io::client::EndpointClient;
use swarm_io::client::chunk::{Chunk, Usage};
use swarm_io::client::meter::Meter;
use swarm_io::client::sse::SseParser;
use tokio_util::sync::CancellationToken;

use support::{Framing, Rng, Served};

/// (prompt, completion, reasoning, cached) tokens as the server's `usage` states them.
type Tokens = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);

/// What measuring one fixture must give.
struct Shape {
    file: &'static str,
    /// Data messages that carried reasoning or answer text.
    chunks: usize,
    ttft: bool,
    ttfo: bool,
    reasoning: &'static str,
    answer: &'static str,
    usage: Option<Tokens>,
    finished: bool,
    done: bool,
    /// Error class and a piece of its detail.
    error: Option<(ErrorClass, &'static str)>,
}

const fn ok(
    file: &'static str,
    chunks: usize,
    reasoning: &'static str,
    answer: &'static str,
    usage: Tokens,
) -> Shape {
    let usage = Some(usage);
    Shape {
        file,
        chunks,
        ttft: true,
        ttfo: true,
        reasoning,
        answer,
        usage,
        finished: true,
        done: true,
        error: None,
    }
}

/// A stream that breaks after `chunks` text chunks, all answer text.
const fn failed(
    file: &'static str,
    chunks: usize,
    answer: &'static str,
    class: ErrorClass,
    detail: &'static str,
) -> Shape {
    let error = Some((class, detail));
    Shape {
        file,
        chunks,
        ttft: true,
        ttfo: true,
        reasoning: "",
        answer,
        usage: None,
        finished: false,
        done: false,
        error,
    }
}

/// One row per fixture; see fixtures/streams/README.md for what each shows.
#[rustfmt::skip]
const SHAPES: &[Shape] = &[
    ok("vllm_chat.sse", 9, "", "The capital of France is **Paris**.", (Some(21), Some(10), None, Some(16))),
    ok("vllm_reasoning_content.sse", 12, "Okay, 2+2 is 4.\n", "\n\n**4**", (Some(12), Some(14), None, None)),
    ok("vllm_reasoning.sse", 9, "The user greets me.", "\n\nHello! 👋", (Some(14), Some(11), None, None)),
    failed("vllm_error_midstream.sse", 3, "Once upon a", ErrorClass::StreamError, "EngineCore encountered an issue"),
    ok("vllm_completions.sse", 7, "", " Paris, the capital of France.", (Some(6), Some(7), None, None)),
    Shape { done: false, ..ok("vllm_chat_completion.json", 1, "The user wants a greeting.\n", "\n\nHello! \"Hi\" back.", (Some(9), Some(16), None, None)) },
    ok("sglang_chat.sse", 7, "", "Tokens stream like rain; \"done\".", (Some(37), Some(8), None, Some(32))),
    ok("llamacpp_reasoning.sse", 11, "Simple arithmetic: 3×3 = 9.", "3 × 3 = **9**", (Some(18), Some(14), None, None)),
    Shape { done: false, ..ok("llamacpp_no_done.sse", 7, "", "Hi there! I'm a llama.", (Some(9), Some(8), None, None)) },
    failed("llamacpp_error_data.sse", 3, "Sure, here", ErrorClass::StreamError, "failed to decode the batch"),
    ok("openai_chat.sse", 5, "", "The answer is 42.", (Some(1187), Some(198), Some(192), Some(1024))),
    ok("dashscope_reasoning.sse", 11, "好的，用户问1+1。", "1 + 1 = 2", (Some(16), Some(40), Some(30), Some(0))),
    ok("modelscope_crlf_keepalive.sse", 7, "Let me think.", "Done\t✓.", (Some(11), Some(9), Some(5), None)),
    failed("gateway_event_error.sse", 2, "Hello", ErrorClass::StreamError, "upstream connection reset"),
];

/// Shapes the client once got wrong, kept as regression tests of their own.
const KNOWN_BAD: &[&str] = &["llamacpp_error_field.sse"];

fn fixture(file: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/streams")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn tokens(u: &Usage) -> Tokens {
    (
        u.prompt_tokens,
        u.completion_tokens,
        u.completion_tokens_details.and_then(|d| d.reasoning_tokens),
        u.prompt_tokens_details.and_then(|d| d.cached_tokens),
    )
}

/// Everything about a measurement that must not depend on how the bytes were split.
#[derive(Debug, PartialEq, Clone)]
struct Outcome {
    chunks: usize,
    ttft: bool,
    ttfo: bool,
    reasoning: String,
    answer: String,
    usage: Option<Tokens>,
    finished: bool,
    done: bool,
    error: Option<(ErrorClass, String)>,
}

fn outcome(m: &Meter) -> Outcome {
    Outcome {
        chunks: m.chunk_us.len(),
        ttft: m.ttft_us.is_some(),
        ttfo: m.ttfo_us.is_some(),
        reasoning: m.reasoning.clone(),
        answer: m.answer.clone(),
        usage: m.usage.as_ref().map(tokens),
        finished: m.finished,
        done: m.done,
        error: m.error.clone(),
    }
}

fn assert_expected(s: &Shape, o: &Outcome) {
    let want = Outcome {
        chunks: s.chunks,
        ttft: s.ttft,
        ttfo: s.ttfo,
        reasoning: s.reasoning.into(),
        answer: s.answer.into(),
        usage: s.usage,
        finished: s.finished,
        done: s.done,
        error: None,
    };
    assert_eq!(
        Outcome {
            error: None,
            ..o.clone()
        },
        want,
        "{}",
        s.file
    );
    assert_error(s, o.error.as_ref().map(|(c, d)| (*c, d.as_str())));
}

/// The error class and detail match the shape's.
fn assert_error(s: &Shape, got: Option<(ErrorClass, &str)>) {
    assert_eq!(
        got.map(|e| e.0),
        s.error.map(|e| e.0),
        "{}: {got:?}",
        s.file
    );
    if let (Some((_, detail)), Some((_, want))) = (got, s.error) {
        assert!(
            detail.contains(want),
            "{}: {detail:?} lacks {want:?}",
            s.file
        );
    }
}

/// Feeds `body` cut at `cuts`, stamping each event with the bytes received so far, the way the
/// client stamps it with the time its piece arrived.
fn meter_in_pieces(body: &[u8], cuts: &[usize]) -> Meter {
    let mut m = Meter::new(true);
    let mut p = SseParser::new();
    let mut last = 0;
    for &c in cuts.iter().chain(std::iter::once(&body.len())) {
        let c = c.clamp(last, body.len());
        p.feed(&body[last..c], |ev| m.on_data(ev.data, ev.event, c as u64));
        last = c;
    }
    p.finish(|ev| m.on_data(ev.data, ev.event, body.len() as u64));
    m.on_end();
    m
}

/// A whole (non-streamed) body, measured the way the client measures one.
fn meter_whole(body: &[u8]) -> Meter {
    let mut m = Meter::new(true);
    let chunk = Chunk::parse(body).expect("fixture is a valid chat.completion");
    assert!(chunk.has_choices());
    m.last_data_us = Some(body.len() as u64);
    m.on_chunk(&chunk, body, body.len() as u64);
    m
}

/// Orderings every measurement must keep, whatever the split.
fn assert_time_order(f: &str, m: &Meter, len: u64) {
    let c = &m.chunk_us;
    assert!(
        c.windows(2).all(|w| w[0] <= w[1]),
        "{f}: chunk times go back: {c:?}"
    );
    if let (Some(t), Some(o)) = (m.ttft_us, m.ttfo_us) {
        assert!(t <= o, "{f}: ttft {t} after ttfo {o}");
    }
    if let (Some(t), Some(first)) = (m.ttft_us, c.first()) {
        assert!(
            t <= *first,
            "{f}: ttft {t} after the first text chunk {first}"
        );
    }
    let last = m.last_data_us.unwrap_or(0);
    assert!(
        c.iter().all(|&t| t <= last) && last <= len,
        "{f}: last data {last}, chunks {c:?}"
    );
}

#[test]
fn every_fixture_has_expectations() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/streams");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".sse") || n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = SHAPES
        .iter()
        .map(|s| s.file)
        .chain(KNOWN_BAD.iter().copied())
        .map(String::from)
        .collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn each_shape_measures_the_same_however_it_is_split() {
    let mut rng = Rng(0x5EED_5EED);
    for s in SHAPES.iter().filter(|s| s.file.ends_with(".sse")) {
        let body = fixture(s.file);
        let len = body.len() as u64;
        let whole = meter_in_pieces(&body, &[]);
        let want = outcome(&whole);
        assert_expected(s, &want);
        assert_time_order(s.file, &whole, len);

        for cut in 0..=body.len() {
            let m = meter_in_pieces(&body, &[cut]);
            assert_eq!(outcome(&m), want, "{}: split at byte {cut}", s.file);
            assert_time_order(s.file, &m, len);
        }

        // One byte at a time: every text event completes at its own byte, so no two share a stamp.
        let bytewise: Vec<usize> = (1..body.len()).collect();
        let m = meter_in_pieces(&body, &bytewise);
        assert_eq!(outcome(&m), want, "{}: byte by byte", s.file);
        assert!(
            m.chunk_us.windows(2).all(|w| w[0] < w[1]),
            "{}: {:?}",
            s.file,
            m.chunk_us
        );
        assert_time_order(s.file, &m, len);

        for round in 0..200 {
            let cuts = support::random_cuts(&mut rng, body.len(), 64);
            let m = meter_in_pieces(&body, &cuts);
            assert_eq!(
                outcome(&m),
                want,
                "{}: round {round}, cuts {cuts:?}",
                s.file
            );
            assert_time_order(s.file, &m, len);
        }
    }
}

#[test]
fn whole_body_measures_as_one_chunk() {
    for s in SHAPES.iter().filter(|s| s.file.ends_with(".json")) {
        let body = fixture(s.file);
        let m = meter_whole(&body);
        assert_expected(s, &outcome(&m));
        let at = body.len() as u64;
        assert_eq!(
            (m.ttft_us, m.ttfo_us, m.chunk_us.clone()),
            (Some(at), Some(at), vec![at])
        );
    }
}

fn target(port: u16, file: &str) -> TargetSpec {
    let (api, path) = if file.contains("completions.sse") {
        (ApiKind::Completions, "/v1/completions")
    } else {
        (ApiKind::Chat, "/v1/chat/completions")
    };
    TargetSpec {
        url: format!("http://127.0.0.1:{port}{path}"),
        api,
        model: "m".into(),
        api_key: None,
        headers: Vec::new(),
        connect_timeout_s: 5.0,
        read_timeout_s: 5.0,
        total_timeout_s: 5.0,
        transport: Default::default(),
    }
}

/// Serves `file` over HTTP in paced pieces and sends one request to it.
async fn replay_one(file: &str, framing: Framing, seed: u64) -> (RequestRecord, usize, Served) {
    let body = fixture(file);
    let content_type = if file.ends_with(".json") {
        "application/json"
    } else {
        "text/event-stream; charset=utf-8"
    };
    let cuts = support::wire_pieces(&body, seed);
    let n_pieces = cuts.len() + 1;
    let (addr, server) = support::replay(body, content_type, framing, cuts).await;
    let client =
        EndpointClient::new(&target(addr.port(), file), None, 1).expect("client for a local url");
    let body = Bytes::from_static(
        br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#,
    );
    let rec = client
        .send(
            body,
            "req-1",
            &Prompt::text("hi"),
            &CancellationToken::new(),
        )
        .await;
    let served = server.await.expect("server task").expect("server exchange");
    (rec, n_pieces, served)
}

/// What the record's token fields must be when no tokenizer is configured.
fn expected_tokens(s: &Shape) -> (u32, u32, u32, u32, TokenSource) {
    let n = |v: Option<u64>| v.map_or(0, |v| u32::try_from(v).expect("small"));
    match s.usage {
        Some((p, c @ Some(_), r, cached)) => (n(p), n(c), n(r), n(cached), TokenSource::Usage),
        _ => (0, s.chunks as u32, 0, 0, TokenSource::Unknown),
    }
}

fn assert_record(s: &Shape, rec: &RequestRecord, framing: Framing, n_pieces: usize) {
    let f = format!("{} ({framing:?})", s.file);
    assert_error(
        s,
        rec.error
            .map(|c| (c, rec.error_detail.as_deref().unwrap_or_default())),
    );
    let r = rec;
    let got = (
        r.prompt_tokens,
        r.completion_tokens,
        r.reasoning_tokens,
        r.cached_tokens,
        r.token_source,
    );
    assert_eq!(
        got,
        expected_tokens(s),
        "{f}: (prompt, completion, reasoning, cached, source)"
    );
    let got = (
        r.status,
        r.chunk_us.len(),
        r.ttft_us.is_some(),
        r.ttfo_us.is_some(),
    );
    assert_eq!(
        got,
        (200, s.chunks, s.ttft, s.ttfo),
        "{f}: (status, chunks, ttft, ttfo)"
    );
    let (ttft, ttfo, lat) = (r.ttft_us.unwrap_or(0), r.ttfo_us.unwrap_or(0), r.latency_us);
    assert!(
        ttft <= ttfo && ttfo <= lat,
        "{f}: ttft {ttft} ttfo {ttfo} latency {lat}"
    );
    let c = &r.chunk_us;
    let ordered = c.windows(2).all(|w| w[0] <= w[1]) && c.iter().all(|&t| ttft <= t && t <= lat);
    assert!(
        ordered,
        "{f}: chunks {c:?} out of order or outside [ttft {ttft}, latency {lat}]"
    );
    if s.error.is_none() {
        // The last data cannot arrive before the server has written it, pauses included.
        let pause = support::total_pause(n_pieces).as_micros() as u64;
        assert!(
            lat >= pause,
            "{f}: latency {lat} µs < the server's pauses {pause} µs"
        );
    }
}

#[tokio::test]
async fn each_shape_over_http_gives_the_right_record() {
    swarm_io::tls::install_crypto_provider();
    for (i, s) in SHAPES.iter().enumerate() {
        for framing in [Framing::Chunked, Framing::Close] {
            let (rec, n_pieces, served) = replay_one(s.file, framing, i as u64).await;
            assert_record(s, &rec, framing, n_pieces);
            // Only a stream error lets the client stop reading early.
            if s.error.is_none() {
                assert_eq!(served, Served::All, "{}: client hung up early", s.file);
            }
        }
    }
}

/// llama-server (cpp-httplib builds, ~b4500–b6xxx) reports task errors as an `error:` SSE field
/// followed by `data: [DONE]`. Were the parser to drop the unknown field, `[DONE]` would end the stream
/// cleanly and the request would count as a success with no output.
#[tokio::test]
async fn llamacpp_error_field_is_a_stream_error() {
    let file = KNOWN_BAD[0];
    let m = meter_in_pieces(&fixture(file), &[]);
    assert_eq!(
        m.error.as_ref().map(|e| e.0),
        Some(ErrorClass::StreamError),
        "{:?}",
        outcome(&m)
    );
    swarm_io::tls::install_crypto_provider();
    let (rec, _, _) = replay_one(file, Framing::Chunked, 7).await;
    assert_eq!(rec.error, Some(ErrorClass::StreamError), "{rec:?}");
    assert!(
        rec.error_detail
            .unwrap_or_default()
            .contains("exceeds the available context size")
    );
}
