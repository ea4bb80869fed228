//! HTTPS endpoints as they are: llm-sim over TLS offering HTTP/2 and HTTP/1.1 by ALPN, with a
//! private CA (`--tls-ca`). By default each request in flight has its own HTTP/1.1 connection
//! (as EvalScope); `--http2 --http2-connections N` multiplexes over exactly N. In both modes the
//! client's TTFT is the server's (from its truth log) plus a small transport overhead, and the
//! protocol and connection count are recorded in breakdown.json.

use std::path::{Path, PathBuf};

use clap::Parser;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rusqlite::Connection;
use swarm_coordinator::cli::Cli;
use swarm_tests::schemas::read_json;
use tokio_util::sync::CancellationToken;

/// A CA (written to `dir/ca.pem`) and a server certificate for 127.0.0.1 signed by it.
fn certs(dir: &Path) -> llm_sim::SimTls {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "test ca");
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("ca.pem");
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("leaf");
    llm_sim::SimTls {
        cert_pem: leaf.pem().into_bytes(),
        key_pem: key.serialize_pem().into_bytes(),
    }
}

fn only(dir: &Path) -> PathBuf {
    let mut e: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(e.len(), 1, "{e:?}");
    e.remove(0)
}

/// Runs `perf` with `extra` flags into `out`; returns the stage folder.
async fn perf(url: &str, ca: &Path, out: &Path, extra: &[&str]) -> PathBuf {
    let mut argv = vec![
        "coordinator",
        "perf",
        "--url",
        url,
        "--tls-ca",
        ca.to_str().expect("utf8"),
        "--dataset",
        "random",
        "--tokenizer-path",
        "cl100k_base",
        "--min-prompt-length",
        "8",
        "--max-prompt-length",
        "16",
        "--max-tokens",
        "4",
        "--stream",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ];
    argv.extend_from_slice(extra);
    if !extra.contains(&"--parallel") {
        argv.extend_from_slice(&["--parallel", "20", "--number", "100"]);
    }
    let cli = Cli::try_parse_from(argv).expect("flags");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    only(&only(&only(out).join("perf")))
}

/// Client TTFT minus the server's (first token handed to the connection − request received),
/// µs, for every request of the stage, sorted.
fn overheads(stage: &Path, truth: &llm_sim::TruthLog) -> Vec<i64> {
    let db = Connection::open(stage.join("requests.sqlite")).expect("sqlite");
    let mut q = db
        .prepare("SELECT shard, id, ttft_us FROM requests WHERE error IS NULL")
        .expect("query");
    let rows: Vec<(String, i64, i64)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(rows.len(), 100);
    let mut out: Vec<i64> = rows
        .iter()
        .map(|(shard, id, ttft)| {
            let t = truth
                .get(&format!("{shard}-{id}"))
                .unwrap_or_else(|| panic!("no truth for {shard}-{id}"));
            let first = t
                .token_chunks
                .first()
                .and_then(|&i| t.chunk_sent.get(i))
                .expect("a token");
            let server = first.duration_since(t.received).as_micros() as i64;
            ttft - server
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoints_over_http1_by_default_and_http2_on_request() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let tls = certs(tmp.path());
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(30.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(2.0);
    cfg.record_truth = true;
    let sim = llm_sim::start_with(
        cfg,
        "127.0.0.1:0".parse().expect("addr"),
        Some(tls),
        CancellationToken::new(),
    )
    .await
    .expect("https sim");
    let url = format!("{}/v1/chat/completions", sim.url());
    assert!(url.starts_with("https://"));
    let ca = tmp.path().join("ca.pem");

    // HTTP/1.1: a connection per request in flight (20), plus the pre-flight probe's
    let stage = perf(&url, &ca, &tmp.path().join("h1"), &[]).await;
    let h1 = sim.connections();
    // a connection handed back to the pool a moment after the user's next request asked for
    // one is replaced by a new one: a few more than 20, never one shared connection
    assert!(
        (20..=31).contains(&h1),
        "{h1} connections for 20 in flight over HTTP/1.1"
    );
    let b = read_json(&stage.join("breakdown.json"));
    let link = &b["connections"]["local-0"];
    assert_eq!(link["http"], "HTTP/1.1", "{b}");
    let n = link["connections"].as_u64().expect("count");
    assert!((20..=30).contains(&n) && n < h1, "{b}");
    let o = overheads(&stage, &sim.truth);
    assert!(
        o[0] >= 0,
        "the client cannot see a token before the server sends it: {o:?}"
    );
    assert!(o[50] < 50_000, "median overhead {} µs over HTTP/1.1", o[50]);

    // HTTP/2 over exactly 2 connections (and the probe's one)
    let stage = perf(
        &url,
        &ca,
        &tmp.path().join("h2"),
        &["--http2", "--http2-connections", "2"],
    )
    .await;
    let h2 = sim.connections() - h1;
    assert!(
        (2..=3).contains(&h2),
        "{h2} connections for --http2-connections 2"
    );
    let b = read_json(&stage.join("breakdown.json"));
    let link = &b["connections"]["local-0"];
    assert_eq!(link["http"], "HTTP/2", "{b}");
    assert_eq!(link["connections"], 2, "{b}");
    let o = overheads(&stage, &sim.truth);
    assert!(o[0] >= 0, "{o:?}");
    assert!(o[50] < 50_000, "median overhead {} µs over HTTP/2", o[50]);
    let rich = read_json(&stage.join("summary.json"));
    assert_eq!(
        rich["client_queue_ms"]["count"], 100,
        "every request's wait on the client is measured"
    );

    // 150 streams over one connection of a server allowing 100: the rest wait on the client,
    // and that wait shows as client queueing, not as the model's time
    let stage = perf(
        &url,
        &ca,
        &tmp.path().join("h2-one"),
        &["--http2", "--parallel", "150", "--number", "300"],
    )
    .await;
    let rich = read_json(&stage.join("summary.json"));
    let q90 = rich["client_queue_ms"]["p90"].as_f64().expect("p90");
    eprintln!(
        "client queue p90 over one connection: {q90} ms; ttft p50 {} p90 {} p99 {}",
        rich["ttft_ms"]["p50"], rich["ttft_ms"]["p90"], rich["ttft_ms"]["p99"]
    );
    assert!(
        q90 >= 15.0,
        "a third of the streams wait a whole answer (~38 ms) for a slot: p90 {q90} ms"
    );
    sim.shutdown().await;
}

#[test]
fn too_many_streams_for_the_connections_are_warned_about() {
    use swarm_common::schedule::LoadModel;
    use swarm_coordinator::perf::job::StageSpec;
    let cli = Cli::try_parse_from([
        "coordinator",
        "perf",
        "--url",
        "http://127.0.0.1:9/v1/chat/completions",
        "--http2",
        "--number",
        "1",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        "x",
    ])
    .expect("flags");
    let swarm_coordinator::cli::Command::Perf(args) = cli.command else {
        panic!("perf")
    };
    let target = args.target("http://127.0.0.1:9/v1").expect("target");
    assert!(target.transport.http2);
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 250 }, Some(10), None);
    let ok = StageSpec::new(LoadModel::Closed { concurrency: 100 }, Some(10), None);
    let w = swarm_coordinator::perf::sweep::stream_warning_for(&target, &stage).expect("a warning");
    assert!(w.contains("--http2-connections to at least 3"), "{w}");
    assert!(swarm_coordinator::perf::sweep::stream_warning_for(&target, &ok).is_none());
}

/// An HTTPS endpoint whose certificate the agents cannot verify fails the pre-flight check as a
/// TLS failure (exit status 3), before any load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_the_pre_flight_check_as_tls() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let tls = certs(tmp.path());
    let sim = llm_sim::start_with(
        llm_sim::SimConfig::instant(),
        "127.0.0.1:0".parse().expect("addr"),
        Some(tls),
        CancellationToken::new(),
    )
    .await
    .expect("https sim");
    let url = format!("{}/v1/chat/completions", sim.url());
    let out = tmp.path().join("out");
    let cli = Cli::try_parse_from([
        "coordinator",
        "perf",
        "--url",
        &url,
        "--dataset",
        "random",
        "--tokenizer-path",
        "cl100k_base",
        "--number",
        "4",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ])
    .expect("flags");
    let err = swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect_err("the certificate is not trusted");
    assert_eq!(
        swarm_coordinator::outcome::exit_of(&err),
        swarm_coordinator::outcome::Exit::Unreachable
    );
    let msg = format!("{err:#}");
    assert!(msg.contains("TLS handshake failed"), "{msg}");
    let run = swarm_tests::only_run(&out);
    swarm_tests::assert_failed_unmeasured(&run, "TLS handshake failed");
    sim.shutdown().await;
}
