//! Trace replay (`mooncake_trace`) end to end over two agents against llm-sim: every line of
//! the trace is sent exactly once, by one agent, at its own time scaled by `speed` on the
//! stage's clock; `max_tokens` is the line's `output_length`; the send-time error written to
//! `trace_replay.json` is the one the per-request records show.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use llm_sim::SimConfig;
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::subdirs;
use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// A sent request may leave this much after its scheduled time. A gross bound for a loaded test
/// machine, not a speed claim (how late sends leave is what `trace_replay.json` reports and what
/// this test checks exactly): it still fails a replay that sends early or ignores the clock.
const SEND_TOLERANCE_US: i64 = 2_000_000;

/// A trace of `n` lines: irregular gaps from a 1000 ms origin, lines sharing prefixes in groups.
fn trace(n: u64) -> (String, Vec<(f64, u32, u32)>) {
    let mut text = String::new();
    let mut lines = Vec::new();
    let mut t = 1000.0;
    for k in 0..n {
        t += [7.0, 61.0, 0.0, 23.0, 90.0, 3.0][(k % 6) as usize];
        let input = 300 + (k % 5) as u32 * 200; // 300 ..= 1100 tokens: 1 to 3 blocks
        let output = 2 + (k % 4) as u32;
        let blocks = input.div_ceil(512) as u64;
        // the first block is shared by groups of 4 lines, the others are the line's own
        let ids: Vec<u64> = (0..blocks)
            .map(|b| if b == 0 { k / 4 } else { 1000 + k * 10 + b })
            .collect();
        let ids = ids
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        text.push_str(&format!(
            "{{\"timestamp\": {t}, \"input_length\": {input}, \"output_length\": {output}, \"hash_ids\": [{ids}]}}\n"
        ));
        lines.push((t, input, output));
    }
    (text, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_over_two_agents_is_sent_once_per_line_at_its_times() {
    let sim = start_sim(SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (text, lines) = trace(60);
    let data = tmp.path().join("trace.jsonl");
    std::fs::write(&data, text).expect("trace");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--agents",
        "2",
        "--dataset",
        "mooncake_trace",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--dataset-args",
        "{\"speed\": 2}",
        "--tokenizer-path",
        "cl100k_base",
        "--stream",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ];
    let cli = Cli::try_parse_from(argv).expect("flags");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    check_replay(&out, &lines, 2.0);
}

/// The one stage under `out` replayed the 60 `lines` at `speed`: each line once, over two
/// agents, at its time, and `trace_replay.json` says what the records say.
fn check_replay(out: &Path, lines: &[(f64, u32, u32)], speed: f64) {
    let runs = subdirs(out);
    let workloads = subdirs(&runs[0].join("perf"));
    let stages = subdirs(&workloads[0]);
    assert_eq!(stages.len(), 1, "{stages:?}");
    let stage = &stages[0];
    assert!(stage.ends_with("trace_speed_2_number_60"), "{stage:?}");

    let db = rusqlite::Connection::open(stage.join("requests.sqlite")).expect("requests.sqlite");
    let mut q = db
        .prepare("SELECT shard, id, scheduled_us, sent_us, completion_tokens, prompt_tokens, error FROM requests")
        .expect("query");
    type Row = (String, i64, Option<i64>, i64, i64, i64, Option<String>);
    let rows: Vec<Row> = q
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    // each line exactly once, over both agents
    let mut by_line: BTreeMap<i64, &Row> = BTreeMap::new();
    for r in &rows {
        assert!(by_line.insert(r.1, r).is_none(), "line {} sent twice", r.1);
    }
    assert_eq!(
        by_line.keys().copied().collect::<Vec<_>>(),
        (0..60).collect::<Vec<_>>()
    );
    let mut per_shard: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &rows {
        *per_shard.entry(r.0.as_str()).or_default() += 1;
    }
    assert_eq!(per_shard.len(), 2, "both agents send: {per_shard:?}");
    assert!(per_shard.values().all(|n| *n >= 20), "{per_shard:?}");
    // the merged schedule is the trace's at speed 2, and each send within the tolerance of it
    let t0 = lines[0].0;
    let mut errors = Vec::new();
    for (k, (t, input, output)) in lines.iter().enumerate() {
        let r = by_line[&(k as i64)];
        assert_eq!(r.6, None, "line {k} failed");
        let want_us = ((t - t0) / speed * 1000.0).round() as i64;
        let scheduled = r.2.expect("scheduled");
        assert!(
            (scheduled - want_us).abs() <= 1,
            "line {k}: scheduled {scheduled} µs, trace says {want_us}"
        );
        let error = r.3 - scheduled;
        assert!(
            (0..=SEND_TOLERANCE_US).contains(&error),
            "line {k}: sent {error} µs after its time"
        );
        errors.push(error);
        // max_tokens = output_length (llm-sim answers max_tokens tokens)
        assert_eq!(r.4, i64::from(*output), "line {k}: completion tokens");
        // llm-sim counts words, not tokens: a prompt was sent (its token length is unit-tested)
        assert!(r.5 > 0, "line {k}: an empty prompt for {input} tokens");
    }
    // the reported send-time error is the records' (nearest rank)
    errors.sort_unstable();
    let rank = |p: f64| errors[((p / 100.0 * 60.0).ceil() as usize).clamp(1, 60) - 1] as f64 / 1e3;
    let replay = read_json(&stage.join("trace_replay.json"));
    assert_eq!(replay["requests"], 60);
    assert_eq!(replay["speed"], 2.0);
    let e = &replay["send_error_ms"];
    assert_eq!(e["p50"].as_f64(), Some(rank(50.0)), "{replay}");
    assert_eq!(e["p99"].as_f64(), Some(rank(99.0)), "{replay}");
    assert_eq!(
        e["max"].as_f64(),
        Some(*errors.last().expect("some") as f64 / 1e3),
        "{replay}"
    );
}

fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} missing: build the workspace first (cargo build --workspace)",
        p.display()
    );
    p
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The same replay with the real binaries: a coordinator process and two agent processes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_over_two_agent_processes_is_sent_once_per_line_at_its_times() {
    let sim = start_sim(SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let (text, lines) = trace(60);
    std::fs::write(dir.join("trace.jsonl"), text).expect("trace");
    std::fs::write(dir.join("token"), "trace-token\n").expect("token");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let plan = format!(
        "version: 1
name: trace
agents: {{min_agents: 2, wait_s: 30, heartbeat_timeout_s: 5}}
coordinator: {{listen: '127.0.0.1:{port}', token_file: token}}
targets:
  - {{name: sim, url: '{}/v1/chat/completions', model: sim-model}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {{kind: mooncake_trace, path: trace.jsonl, tokenizer: cl100k_base, speed: 2}}
      stages:
        - {{number: 60}}
",
        sim.url()
    );
    std::fs::write(dir.join("plan.yaml"), plan).expect("plan");
    let log = std::fs::File::create(dir.join("coordinator.log")).expect("log");
    let out = dir.join("out");
    let mut coord = Proc(
        Command::new(bin("coordinator"))
            .args(["run", "--quiet", "--outputs-dir"])
            .arg(&out)
            .arg(dir.join("plan.yaml"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("coordinator starts"),
    );
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "coordinator never listened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let agent = |id: &str| {
        Proc(
            Command::new(bin("agent"))
                .args([
                    "--coordinator",
                    &format!("http://127.0.0.1:{port}"),
                    "--id",
                    id,
                ])
                .arg("--token-file")
                .arg(dir.join("token"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("agent starts"),
        )
    };
    let (_a, _b) = (agent("a"), agent("b"));
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = coord.0.try_wait().expect("status") {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "the run did not end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let log = std::fs::read_to_string(dir.join("coordinator.log")).unwrap_or_default();
    assert!(status.success(), "coordinator failed: {log}");
    check_replay(&out, &lines, 2.0);
    sim.shutdown().await;
}

/// An agent lost mid-replay: the survivor sends the lines it had not reported, at their times
/// on the stage's clock; every line of the trace is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_agents_lines_are_sent_by_the_survivor() {
    use std::sync::Arc;
    use swarm_common::metrics::aggregate::HistSettings;
    use swarm_common::schedule::LoadModel;
    use swarm_common::shard::{ApiKind, GenParams};
    use swarm_coordinator::cluster::{Cluster, ClusterConfig};
    use swarm_coordinator::perf::job::{PerfJob, StageSpec};
    use swarm_coordinator::perf::stage::{Group, ProgressMode, run_stage};
    use swarm_coordinator::perf::trace_load::{load_trace, trace_stage};

    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(5.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(5.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    // 120 lines 20 ms apart: 2.4 s of replay
    let mut text = String::new();
    for k in 0..120u64 {
        let t = k * 20;
        text.push_str(&format!(
            "{{\"timestamp\": {t}, \"input_length\": 40, \"output_length\": 3, \"hash_ids\": [{}]}}\n",
            k % 7
        ));
    }
    let path = tmp.path().join("trace.jsonl");
    std::fs::write(&path, text).expect("trace");
    let trace = load_trace(&path, None, tmp.path()).expect("trace loads");
    let whole = StageSpec::new(LoadModel::Closed { concurrency: 1 }, Some(u64::MAX), None);
    let stage = trace_stage(&whole, &trace, 1.0).expect("stage");
    let job = PerfJob {
        name: "w".into(),
        target: swarm_tests::sim_target(&sim, ApiKind::Chat),
        gen_params: GenParams {
            stream: true,
            ..Default::default()
        },
        prompts: Arc::clone(&trace.set),
        tokenizer: Some("cl100k_base".into()),
        warmup: 0,
        seed: 3,
        hist: HistSettings::default(),
        stages: vec![stage.clone()],
        sqlite: true,
        goodput: None,
        thresholds: vec![],
        early_stop: Default::default(),
        outputs: Default::default(),
        multi_turn: None,
    };
    let cancel = CancellationToken::new();
    let mut cfg = ClusterConfig::local("test", 2);
    cfg.heartbeat_ms = 100;
    cfg.progress_ms = 100;
    cfg.heartbeat_timeout = Duration::from_secs(10);
    let mut cluster = Cluster::start(cfg, &cancel).await.expect("cluster starts");
    let agents = cluster
        .wait_for(2, &Default::default(), Duration::from_secs(10))
        .await
        .expect("agents join");
    let groups = vec![Group {
        label: None,
        agents,
    }];
    let dir = tmp.path().join("stage");
    let local = cluster.local_agents();
    let killer = async move {
        // the stage starts ~1.5 s after assignment; kill agent 1 about 1 s into the replay
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(local.kill(1));
    };
    let (r, ()) = tokio::join!(
        run_stage(
            &mut cluster,
            &job,
            &stage,
            &groups,
            &dir,
            ProgressMode::Quiet,
            &cancel
        ),
        killer
    );
    let r = r.expect("the stage completes without the agent");
    cluster.shutdown().await;
    sim.shutdown().await;
    let breakdown = read_json(&dir.join("breakdown.json"));
    let events = breakdown["events"].to_string();
    assert!(events.contains("agent local-1 lost"), "{events}");
    assert!(
        events.contains("the rest of its trace lines to local-0"),
        "{events}"
    );
    // every line sent: by the lost agent before it was lost, or by the survivor
    let db = rusqlite::Connection::open(dir.join("requests.sqlite")).expect("sqlite");
    let lines: Vec<i64> = db
        .prepare("SELECT DISTINCT id FROM requests ORDER BY id")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(lines, (0..120).collect::<Vec<_>>(), "{}", r.stopped);
    assert!(dir.join("trace_replay.json").is_file());
}
