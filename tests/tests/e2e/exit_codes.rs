//! The exit-status contract of `coordinator perf` and `run`, one test per status, on the real
//! binary: 0 ok, 2 usage, 3 unreachable target (the pre-flight check names the cause), 4 no
//! successful request, 5 no agents, 130 cancelled. A failed stage says why in run.json.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;

fn perf(dir: &Path, args: &[&str]) -> Output {
    std::fs::write(dir.join("p.txt"), "hello\nsecond prompt\nthird prompt\n").expect("dataset");
    Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(dir)
        .args([
            "perf",
            "--dataset",
            "line_by_line",
            "--dataset-path",
            "p.txt",
        ])
        .args(["--outputs-dir", "out", "--max-tokens", "2"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("coordinator runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A loopback server answering every request with `status` and `body`.
fn answering(status: &'static str, body: &'static str) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_is_0_and_usage_errors_are_2() {
    let sim = start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/v1/chat/completions", sim.url());
    let ok = perf(
        tmp.path(),
        &["--url", &url, "--number", "6", "--parallel", "2"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = perf(tmp.path(), &["--url", &url, "--number", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("--number"), "{}", stderr(&bad));
    let missing = Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(tmp.path())
        .args(["perf", "--url", &url, "--dataset", "line_by_line"])
        .args(["--dataset-path", "nowhere.txt", "--number", "3"])
        .output()
        .expect("runs");
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("nowhere.txt"),
        "{}",
        stderr(&missing)
    );
    sim.shutdown().await;
}

#[test]
fn an_unreachable_target_is_3_and_says_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // a port nothing listens on
    let port = swarm_tests::free_port();
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let o = perf(tmp.path(), &["--url", &url, "--number", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("connection refused"), "{err}");
    assert!(err.contains(&url), "the URL is named: {err}");
    // the run folder records the failure and holds no measurement that could pass for one
    let run = swarm_tests::only_run(&tmp.path().join("out"));
    swarm_tests::assert_failed_unmeasured(&run, "connection refused");
}

#[test]
fn the_pre_flight_check_names_404_and_401() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let p404 = answering("404 Not Found", "404 page not found");
    let url = format!("http://127.0.0.1:{p404}/v1/chat/completions");
    let o = perf(tmp.path(), &["--url", &url, "--number", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("404 not found (check the URL's path)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("/v1/chat/completions"),
        "{}",
        stderr(&o)
    );

    let p401 = answering("401 Unauthorized", r#"{"error":"invalid api key"}"#);
    let url = format!("http://127.0.0.1:{p401}/v1/chat/completions");
    let o = perf(tmp.path(), &["--url", &url, "--number", "5"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not authorized"), "{}", stderr(&o));
    assert!(stderr(&o).contains("HTTP 401"), "{}", stderr(&o));

    let model = answering(
        "404 Not Found",
        r#"{"error":{"message":"The model `nope` does not exist.","type":"NotFoundError"}}"#,
    );
    let url = format!("http://127.0.0.1:{model}/v1/chat/completions");
    let o = perf(
        tmp.path(),
        &["--url", &url, "--number", "5", "--model", "nope"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("model is not served"), "{}", stderr(&o));
}

#[test]
fn no_successful_request_is_4_and_run_json_says_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = answering("500 Internal Server Error", r#"{"error":"boom"}"#);
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let o = perf(
        tmp.path(),
        &["--url", &url, "--number", "4", "--no-test-connection"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no successful request"),
        "{}",
        stderr(&o)
    );
    let out = tmp.path().join("out");
    let run = swarm_tests::only_run(&out);
    let run_json = read_json(&run.join("run.json"));
    assert_eq!(run_json["outcome"], "no_success", "{run_json}");
    let stage = &run_json["workloads"]["perf"][0]["outcome"];
    assert_eq!(stage["status"], "no_success");
    let reason = stage["reason"].as_str().expect("reason");
    assert!(reason.contains("http_5xx ×4"), "{reason}");
    assert!(reason.contains("boom"), "an example message: {reason}");
    // the report (and the dashboard, which renders the same page) says so before any number
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(
        html.contains("FAILED: no successful request: all 4 requests failed"),
        "the report marks the failed stage"
    );
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"),
        "the written report forbids scripts as the dashboard's header does"
    );
    let data = swarm_coordinator::report::run_data::read_run(&run).expect("reads");
    let page = swarm_coordinator::report::html::render(&data);
    assert!(page.contains("FAILED: no successful request"));
}

#[test]
fn no_agents_is_5() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = swarm_tests::free_port();
    std::fs::write(tmp.path().join("p.txt"), "hello\n").expect("dataset");
    let plan = format!(
        "version: 1
name: lonely
agents: {{min_agents: 1, wait_s: 1}}
coordinator: {{listen: '127.0.0.1:{port}'}}
targets:
  - {{name: t, url: 'http://127.0.0.1:9/v1/chat/completions', model: m}}
workloads:
  - name: w
    perf:
      target: t
      dataset: {{kind: line_by_line, path: p.txt}}
      stages:
        - {{parallel: 1, number: 1}}
"
    );
    std::fs::write(tmp.path().join("plan.yaml"), plan).expect("plan");
    let o = Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(tmp.path())
        .args(["run", "--quiet", "--outputs-dir", "out", "plan.yaml"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("agents"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_is_130() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(50.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.txt"), "hello\n").expect("dataset");
    let url = format!("{}/v1/chat/completions", sim.url());
    let mut child = Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(tmp.path())
        .args([
            "perf",
            "--dataset",
            "line_by_line",
            "--dataset-path",
            "p.txt",
        ])
        .args(["--url", &url, "--number", "100000", "--parallel", "2"])
        .args(["--outputs-dir", "out", "--max-tokens", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    // wait until the stage is under way (its live file exists), then interrupt
    let t0 = Instant::now();
    let started = loop {
        let live = std::fs::read_dir(tmp.path().join("out"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path().join("perf/perf"))
            .is_some_and(|p| p.exists());
        if live || t0.elapsed() > Duration::from_secs(30) {
            break live;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(started, "the run started");
    std::thread::sleep(Duration::from_millis(500));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let t1 = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("status") {
            break s;
        }
        assert!(t1.elapsed() < Duration::from_secs(30), "stops after SIGINT");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(130));
    // the run folder says so, with what was measured before the interrupt
    let run = swarm_tests::only_run(&tmp.path().join("out"));
    let record = swarm_tests::run_record(&run);
    assert_eq!(
        record.status,
        swarm_coordinator::run_store::record::RunStatus::Cancelled
    );
    assert!(record.cancelled && record.ended_at.is_some(), "{record:?}");
    // the stages it got to are recorded with what they measured (under load the interrupt may
    // come before the first stage sent anything)
    let stages = &record.workloads["perf"];
    assert!(stages.len() <= 1, "{stages:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_sockets_names_the_open_file_limit() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(300.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.txt"), "hello\n").expect("dataset");
    let url = format!("{}/v1/chat/completions", sim.url());
    let coordinator = swarm_tests::workspace_bin("coordinator");
    // a soft and hard limit of 128 descriptors, 300 streams asked for
    let script = format!(
        "ulimit -n 128 && exec '{}' perf --dataset line_by_line --dataset-path p.txt --url '{url}' \
         --number 300 --parallel 300 --max-tokens 2 --outputs-dir out --no-test-connection",
        coordinator.display()
    );
    let o = Command::new("sh")
        .current_dir(tmp.path())
        .args(["-c", &script])
        .output()
        .expect("runs");
    sim.shutdown().await;
    let out = tmp.path().join("out");
    let run = swarm_tests::only_run(&out);
    let stage = run.join("perf/perf/parallel_300_number_300");
    let summary = read_json(&stage.join("summary.json"));
    let failed = summary["failed"].as_u64().expect("failed");
    assert!(
        failed > 0,
        "300 streams cannot fit in 128 descriptors: {}",
        stderr(&o)
    );
    let db = rusqlite::Connection::open(stage.join("requests.sqlite")).expect("sqlite");
    let detail: String = db
        .query_row(
            "SELECT error_detail FROM requests WHERE error IS NOT NULL LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a failed request");
    assert!(
        detail.contains("the open-file limit is 128"),
        "the error names the limit: {detail}"
    );
}

fn eval(dir: &Path, url: &str, extra: &[&str]) -> Output {
    let dargs = serde_json::json!({
        "gsm8k": {"local_path": swarm_tests::eval_fixture("gsm8k/test.jsonl")},
    })
    .to_string();
    Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(dir)
        .args([
            "eval",
            "--model",
            "m",
            "--api-url",
            url,
            "--datasets",
            "gsm8k",
        ])
        .args([
            "--dataset-args",
            &dargs,
            "--limit",
            "3",
            "--outputs-dir",
            "out",
        ])
        .args(["--generation-config", r#"{"max_tokens": 8}"#])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("coordinator runs")
}

#[test]
fn an_eval_whose_every_sample_failed_is_4_and_an_unreachable_one_3() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = answering("500 Internal Server Error", r#"{"error":"boom"}"#);
    let url = format!("http://127.0.0.1:{port}/v1/chat/completions");
    let o = eval(tmp.path(), &url, &["--no-test-connection"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("all 3 samples failed"),
        "{}",
        stderr(&o)
    );
    // no score over no answers: no report file, and run.json and report.html say it failed
    let run = swarm_tests::only_run(&tmp.path().join("out"));
    let reports: Vec<_> = walk_files(&run.join("eval"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/reports/"))
        .collect();
    assert!(
        reports.is_empty(),
        "a report of an all-failed benchmark: {reports:?}"
    );
    swarm_tests::assert_failed_unmeasured(&run, "all 3 samples failed");
    std::fs::remove_dir_all(tmp.path().join("out")).expect("clean");

    let closed = format!(
        "http://127.0.0.1:{}/v1/chat/completions",
        swarm_tests::free_port()
    );
    let o = eval(tmp.path(), &closed, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_threshold_is_99_and_a_held_one_0() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(30.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/v1/chat/completions", sim.url());
    let strict = perf(
        tmp.path(),
        &[
            "--url",
            &url,
            "--number",
            "6",
            "--threshold",
            "p99_ttft<=5ms",
            "--threshold",
            "error_rate<0.5",
        ],
    );
    assert_eq!(strict.status.code(), Some(99), "{}", stderr(&strict));
    let out = String::from_utf8_lossy(&strict.stdout);
    assert!(
        out.contains("p99_ttft<=5ms") && out.contains("FAIL"),
        "{out}"
    );
    assert!(
        stderr(&strict).contains("threshold p99_ttft<=5ms failed"),
        "{}",
        stderr(&strict)
    );
    let loose = perf(
        tmp.path(),
        &[
            "--url",
            &url,
            "--number",
            "6",
            "--threshold",
            "p99_ttft<=5s",
            "--threshold",
            "rps>0",
        ],
    );
    assert_eq!(loose.status.code(), Some(0), "{}", stderr(&loose));
    assert!(String::from_utf8_lossy(&loose.stdout).contains("pass"));
    let bad = perf(
        tmp.path(),
        &["--url", &url, "--number", "6", "--threshold", "p98_ttft<1"],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("unknown metric"), "{}", stderr(&bad));

    // `:abort` (k6's abortOnFail): the first stage fails it, the second is not run
    let abort_dir = tmp.path().join("abort");
    std::fs::create_dir_all(&abort_dir).expect("dir");
    let aborted = perf(
        &abort_dir,
        &[
            "--url",
            &url,
            "--parallel",
            "1",
            "2",
            "--number",
            "3",
            "6",
            "--threshold",
            "p99_ttft<=5ms:abort",
        ],
    );
    assert_eq!(aborted.status.code(), Some(99), "{}", stderr(&aborted));
    assert!(
        stderr(&aborted).contains("1 later stage(s) not run"),
        "{}",
        stderr(&aborted)
    );
    let run = swarm_tests::only_run(&abort_dir.join("out"));
    let record = swarm_tests::run_record(&run);
    let stages = &record.workloads["perf"];
    assert_eq!(stages.len(), 1, "{stages:?}");
    assert!(!stages[0].thresholds[0].pass);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stage_with_too_many_errors_stops_early_and_the_sweep_goes_no_higher() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(5.0);
    cfg.faults.rate_500 = 0.6;
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/v1/chat/completions", sim.url());
    let o = perf(
        tmp.path(),
        &[
            "--url",
            &url,
            "--parallel",
            "2",
            "4",
            "--number",
            "2000",
            "2000",
            "--max-error-rate",
            "0.3",
            "--no-test-connection",
        ],
    );
    assert_eq!(o.status.code(), Some(99), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 later stage(s) not run"),
        "{}",
        stderr(&o)
    );
    let run = swarm_tests::only_run(&tmp.path().join("out"));
    let record = swarm_tests::run_record(&run);
    let stages = &record.workloads["perf"];
    assert_eq!(stages.len(), 1, "the second stage was not run: {stages:?}");
    let s = &stages[0];
    assert!(s.stopped.starts_with("errors: "), "{}", s.stopped);
    assert!(
        s.summary.total_requests < 2000,
        "stopped before its budget: {}",
        s.summary.total_requests
    );
    assert!(s.summary.failed_requests > 0 && s.summary.success_requests > 0);
    assert!(
        s.thresholds
            .iter()
            .any(|t| !t.pass && t.threshold.starts_with("early stop")),
        "{:?}",
        s.thresholds
    );
    assert!(
        record.failures.iter().any(|f| f.contains("early stop")),
        "{:?}",
        record.failures
    );
    sim.shutdown().await;
}

/// Every file under `dir`.
fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}
