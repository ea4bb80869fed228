//! Plans: the bundled quickstart runs end to end; bad plans fail with one clear error each.

use std::collections::HashMap;
use std::path::Path;

use swarm_coordinator::cli::RunArgs;
use swarm_coordinator::plan::{PlanError, parse_plan};
use swarm_coordinator::run::{QUICKSTART, run_plan};
use swarm_tests::schemas::{read_json, violations};
use tokio_util::sync::CancellationToken;

const GOOD: &str = "version: 1
name: t
targets:
  - name: sim
    sim: {latency: {ttft_ms: 1, itl_ms: 0}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}
      max_tokens: 4
      stages:
        - {parallel: 2, number: 6}
";

/// `text` with `section` (agents:, coordinator:) added before `workloads:`.
fn with_agents(text: &str, section: &str) -> String {
    text.replace("workloads:", &format!("{section}\nworkloads:"))
}

fn parse(text: &str) -> Result<swarm_coordinator::plan::Plan, PlanError> {
    let vars: HashMap<String, String> = [("PORT".to_string(), "8000".to_string())]
        .into_iter()
        .collect();
    parse_plan(text, Path::new("plan.yaml"), &vars)
}

#[test]
fn the_quickstart_and_the_examples_parse() {
    parse(QUICKSTART).expect("quickstart parses");
    parse(GOOD).expect("good plan parses");
}

#[test]
fn bad_plans_give_one_clear_error_each() {
    let cases: Vec<(String, &str)> = vec![
        (
            GOOD.replace("max_tokens: 4", "max_tokens: 4\n      max_tokenz: 5"),
            "plan.yaml:12:7: workloads[0].perf.max_tokenz: unknown field `max_tokenz`, expected one of",
        ),
        (
            GOOD.replace("max_tokens: 4", "max_tokens: lots"),
            "workloads[0].perf.max_tokens: invalid type",
        ),
        (
            GOOD.replace("name: t", "name: ${MISSING_VAR_X}"),
            "line 2, column 7: environment variable MISSING_VAR_X is not set",
        ),
        (
            GOOD.replace("{parallel: 2, number: 6}", "{parallel: 2}"),
            "workloads[0].perf.stages[0].number: a stage needs number or duration_s",
        ),
        (
            GOOD.replace("target: sim", "target: prod"),
            "workloads[0].perf.target: unknown target \"prod\" (known: sim)",
        ),
        (
            GOOD.replace("version: 1", "version: 2"),
            "version: unsupported plan version 2",
        ),
        (
            GOOD.replace("{parallel: 2, number: 6}", "{rate: -1, number: 6}"),
            "stages[0].rate: must be a positive number",
        ),
        (
            GOOD.replace("kind: random", "kind: wikipedia"),
            "workloads[0].perf.dataset.kind",
        ),
        (
            GOOD.replace(
                "sim: {latency: {ttft_ms: 1, itl_ms: 0}}",
                "url: http://127.0.0.1:${PORT}/v1",
            ),
            "targets[0].model: required with url",
        ),
        (
            with_agents(GOOD, "agents: {min_agents: 2}"),
            "coordinator: required when agents.min_agents is 2",
        ),
        (
            with_agents(GOOD, "agents: {local_agents: 0}"),
            "agents.local_agents: the plan has no agents",
        ),
        (
            with_agents(GOOD, "agents: {heartbeat_timeout_s: 0}"),
            "agents.heartbeat_timeout_s: must be a positive number of seconds, got 0",
        ),
        (
            with_agents(GOOD, "agents: {local_agents: 4000000000}"),
            "agents.local_agents: at most 1024 in-process agents, got 4000000000",
        ),
        (
            with_agents(GOOD, "agents: {heartbeat_timeout_s: 1e300}"),
            "agents.heartbeat_timeout_s: must be a positive number of seconds",
        ),
        (
            with_agents(GOOD, "agents: {wait_s: -5}"),
            "agents.wait_s: must be a positive number of seconds, got -5",
        ),
        (
            with_agents(
                GOOD,
                "agents: {min_agents: 1}\ncoordinator: {listen: '0.0.0.0:7070'}",
            ),
            "coordinator.tls: listen address 0.0.0.0:7070 is not loopback: give tls (cert and key), or set insecure: true",
        ),
        (
            with_agents(
                GOOD,
                "coordinator: {listen: '10.0.0.5:7070', tls: {cert: s.pem, key: s.key}}",
            ),
            "coordinator.token_env: listen address 10.0.0.5:7070 is not loopback: agents need a credential",
        ),
        (
            with_agents(GOOD, "coordinator: {token_env: T, token_file: t.txt}"),
            "coordinator.token_env: give token_env or token_file, not both",
        ),
        (
            with_agents(GOOD, "coordinator: {tls: {cert: s.pem}}"),
            "coordinator.tls.key: required with tls.cert",
        ),
        (
            with_agents(GOOD, "coordinator: {listen: 'localhost:7070'}"),
            "coordinator.listen: expected an IP address and port such as 0.0.0.0:7070, got \"localhost:7070\"",
        ),
        (
            with_agents(GOOD, "agents: {selector: {'': x}}"),
            "agents.selector: label names must not be empty",
        ),
        (
            GOOD.replace(
                "  - name: w\n",
                "  - name: w\n    placement: {per_label: ' '}\n",
            ),
            "workloads[0].placement.per_label: must name an agent label",
        ),
        (
            with_agents(GOOD, "agents: {local_agents: 3}"),
            "workloads[0].perf.stages[0].parallel: cannot split parallel 2 across 3 agents: every agent needs at least one user (agents.local_agents is 3)",
        ),
        (
            with_agents(GOOD, "agents: {local_agents: 2}")
                .replace("{parallel: 2, number: 6}", "{parallel: 2, number: 1}"),
            "workloads[0].perf.stages[0].number: cannot split number 1 across 2 agents",
        ),
        (
            with_agents(GOOD, "agents: {local_agents: 4}").replace(
                "{parallel: 2, number: 6}",
                "{rate: 5, parallel: 3, duration_s: 2}",
            ),
            "workloads[0].perf.stages[0].parallel: cannot split parallel 3 across 4 agents",
        ),
    ];
    for (text, want) in cases {
        let err = parse(&text).expect_err("must fail").to_string();
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bundled_quickstart_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = RunArgs {
        plan: None,
        outputs_dir: Some(tmp.path().to_path_buf()),
        quiet: true,
        resume: None,
        run_dir: None,
        allow_env: Vec::new(),
        metrics_listen: None,
        sandbox: Default::default(),
    };
    let run = run_plan(&args, &CancellationToken::new())
        .await
        .expect("quickstart runs");
    let summary = read_json(&run.join("run.json"));
    let stages = summary["workloads"]["chat"].as_array().expect("stages");
    assert_eq!(stages.len(), 3);
    let expected = [20, 80, 80];
    for (s, n) in stages.iter().zip(expected) {
        assert_eq!(s["summary"]["Total Requests"], n);
        assert_eq!(s["stopped"], "count");
        assert_eq!(
            violations("benchmark_summary.schema.json", &s["summary"]),
            Vec::<String>::new()
        );
    }
    assert_eq!(
        std::fs::read_to_string(run.join("plan.yaml")).expect("plan copy"),
        QUICKSTART
    );
    // open-loop stage: corrected latency and send lag are reported
    let rich = read_json(&run.join("perf/chat/rate_40_parallel_32_number_80/summary.json"));
    assert_eq!(
        rich["corrected_latency_s"]["count"].as_u64().unwrap_or(0)
            + rich["failed"].as_u64().unwrap_or(0),
        80
    );
    assert!(
        rich["ttfo_ms"]["mean"].as_f64().unwrap_or(0.0)
            > rich["ttft_ms"]["mean"].as_f64().unwrap_or(f64::MAX),
        "reasoning makes TTFO later than TTFT"
    );
}
