//! A build without the `otlp` feature (the default) in an environment that asks for OTLP export
//! (`OTEL_EXPORTER_OTLP_ENDPOINT`, as an OpenTelemetry operator sets in every pod): the
//! coordinator and an agent process each warn that nothing is exported, and the run goes on and
//! ends well. The export itself: tests/tests/otlp.rs (`--features otlp`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::schemas::read_json;

const WARNING: &str = "built without --features otlp";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `bin` with `args` in `dir`, asked for OTLP export to `endpoint` and given no log filter;
/// stderr goes to `<dir>/<log>`.
fn start(bin: &str, dir: &Path, args: &[&str], endpoint: &str, log: &str) -> Proc {
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    let mut cmd = Command::new(swarm_tests::workspace_bin(bin));
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .env_remove("RUST_LOG")
        .env_remove("SWARM_OTLP_FILTER")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    Proc(cmd.spawn().expect("starts"))
}

/// Waits for `p` to end, at most until `deadline`.
fn wait(p: &mut Proc, deadline: Instant, what: &str, log: &Path) -> std::process::ExitStatus {
    loop {
        if let Some(s) = p.0.try_wait().expect("status") {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not end in time: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_the_otlp_feature_an_export_endpoint_warns_and_the_run_goes_on() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("p.txt"), "hello\nsecond prompt\n").expect("dataset");
    std::fs::write(dir.join("token"), "otlp-less\n").expect("token");
    let port = swarm_tests::free_port();
    std::fs::write(
        dir.join("plan.yaml"),
        format!(
            "version: 1
name: no-otlp
agents: {{min_agents: 1, wait_s: 60, heartbeat_timeout_s: 10}}
coordinator: {{listen: '127.0.0.1:{port}', token_file: token}}
targets:
  - name: sim
    sim: {{latency: {{ttft_ms: 1, itl_ms: 0}}}}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {{kind: line_by_line, path: p.txt}}
      max_tokens: 2
      stages:
        - {{parallel: 1, number: 4}}
"
        ),
    )
    .expect("plan");
    // nothing listens there: a build that did export would only fail to deliver
    let endpoint = format!("http://127.0.0.1:{}", swarm_tests::free_port());
    let run_args = ["run", "--quiet", "--run-dir", "the-run", "plan.yaml"];
    let mut coordinator = start("coordinator", dir, &run_args, &endpoint, "coordinator.log");
    let coordinator_url = format!("http://127.0.0.1:{port}");
    let agent_args = [
        "--coordinator",
        coordinator_url.as_str(),
        "--id",
        "a1",
        "--token-file",
        "token",
        "--give-up-after",
        "60",
    ];
    let mut agent = start("agent", dir, &agent_args, &endpoint, "agent.log");

    let deadline = Instant::now() + Duration::from_secs(90);
    let (clog, alog) = (dir.join("coordinator.log"), dir.join("agent.log"));
    let status = wait(&mut coordinator, deadline, "the coordinator", &clog);
    let coordinator_log = std::fs::read_to_string(&clog).unwrap_or_default();
    assert!(status.success(), "{status}: {coordinator_log}");
    // the coordinator drains the agent at the end of the run: it stops by itself
    let agent_status = wait(&mut agent, deadline, "the agent", &alog);
    let agent_log = std::fs::read_to_string(&alog).unwrap_or_default();
    assert!(agent_status.success(), "{agent_status}: {agent_log}");

    for (who, log) in [("coordinator", &coordinator_log), ("agent", &agent_log)] {
        let line = log.lines().find(|l| l.contains(WARNING));
        let line = line.unwrap_or_else(|| panic!("the {who} does not warn: {log}"));
        assert!(line.contains("WARN"), "{who}: {line}");
        assert!(line.contains(&endpoint), "{who} names the endpoint: {line}");
    }
    let summary =
        read_json(&dir.join("the-run/perf/chat/parallel_1_number_4/benchmark_summary.json"));
    assert_eq!(summary["Total Requests"], 4, "{summary}");
    assert_eq!(summary["Success Requests"], 4, "{summary}");
}
