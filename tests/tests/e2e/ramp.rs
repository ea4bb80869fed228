//! Ramps inside a stage, end to end over two agents against llm-sim: vLLM's rate ramp flags
//! (`--ramp-up-strategy`) and a plan's users ramp; the merged time series rises as the ramp
//! says, and the stage's files record the ramp and each agent's share of it.

use std::path::Path;

use clap::Parser;
use llm_sim::SimConfig;
use serde_json::Value;
use swarm_coordinator::cli::{Cli, RunArgs};
use swarm_coordinator::run::run_plan;
use swarm_tests::run_dirs::only_stage;
use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// `timeseries.json`'s points with something finished: (t_s, requests/s, in flight).
fn busy_points(stage: &Path) -> Vec<(f64, f64, f64)> {
    let ts = read_json(&stage.join("timeseries.json"));
    ts.as_array()
        .expect("points")
        .iter()
        .map(|p| {
            let f = |k: &str| p[k].as_f64().expect("number");
            (f("t_s"), f("requests_per_s"), f("concurrency"))
        })
        .filter(|(_, r, _)| *r > 0.0)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_ramp_over_two_agents_rises_from_start_to_end_rate() {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(5.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("prompts.txt");
    std::fs::write(&data, "one question\nanother question\n").expect("dataset");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    // 2 → 40 req/s over the 4 s stage, constant gaps: λ(t) = 2 + 9.5 t, so the first second
    // expects ∫₀¹ = 6.75 requests and the last ∫₃⁴ = 35.25; Λ(4) = 84 in all
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--agents",
        "2",
        "--dataset",
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--max-tokens",
        "4",
        "--stream",
        "--duration",
        "4",
        "--arrival",
        "constant",
        "--ramp-up-strategy",
        "linear",
        "--ramp-up-start-rps",
        "2",
        "--ramp-up-end-rps",
        "40",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ];
    let cli = Cli::try_parse_from(argv).expect("flags");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    let stage = only_stage(&out);
    assert!(
        stage.ends_with("ramp_rate_2_40_linear_over_4s_duration_4s"),
        "{stage:?}"
    );
    let summary = read_json(&stage.join("benchmark_summary.json"));
    let total = summary["Total Requests"].as_u64().expect("total");
    // each agent sends its half: arrivals at Λ⁻¹(2k), 42 each (± one at the edge of the stage)
    assert!((80..=86).contains(&total), "total {total}, expected 84");
    // the merged time series rises (its intervals end when the agents' progress arrives, so
    // the last one may also hold what was reported late: only the trend is checked)
    let points = busy_points(&stage);
    assert!(points.len() >= 3, "{points:?}");
    let first = points[0].1;
    let peak = points.iter().map(|p| p.1).fold(0.0, f64::max);
    assert!(
        first < 15.0,
        "first second {first} req/s, expected about 6.75: {points:?}"
    );
    assert!(
        peak >= 25.0,
        "last second {peak} req/s, expected about 35: {points:?}"
    );
    assert!(peak > 2.5 * first, "the rate rises: {points:?}");
    // the merged arrivals per second, from both agents' records (their shards start together):
    // ∫ λ over each second = 6.75, 16.25, 25.75, 35.25; constant gaps, so within 1.5 each
    let db = rusqlite::Connection::open(stage.join("requests.sqlite")).expect("requests.sqlite");
    let mut per_s = [0u64; 4];
    let mut q = db
        .prepare("SELECT scheduled_us FROM requests")
        .expect("query");
    let rows = q
        .query_map([], |r| r.get::<_, Option<i64>>(0))
        .expect("rows");
    for at in rows {
        let at = at.expect("row").expect("open loop: scheduled") as f64 / 1e6;
        if let Some(n) = per_s.get_mut(at as usize) {
            *n += 1;
        }
    }
    for (k, want) in [6.75f64, 16.25, 25.75, 35.25].into_iter().enumerate() {
        let got = per_s[k] as f64;
        assert!(
            (got - want).abs() <= 1.5,
            "second {k}: {got}, expected {want}: {per_s:?}"
        );
    }
    // the files record the ramp: the stage's in benchmark_args.json, each agent's in breakdown.json
    let args = read_json(
        &stage
            .parent()
            .expect("workload")
            .join("benchmark_args.json"),
    );
    let ramp = &args["stages"][0]["ramp"];
    assert_eq!(ramp["from"], 2.0, "{args}");
    assert_eq!(ramp["to"], 40.0);
    assert_eq!(ramp["over_s"], 4.0);
    assert_eq!(ramp["strategy"], "linear");
    let breakdown = read_json(&stage.join("breakdown.json"));
    let shards = breakdown["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 2);
    let mut indexes: Vec<u64> = shards
        .iter()
        .map(|s| {
            assert_eq!(s["ramp"]["ramp"], *ramp);
            let share = &s["ramp"]["shares"][0];
            assert_eq!(share["weights"].as_array().map(Vec::len), Some(2));
            share["index"].as_u64().expect("index")
        })
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, vec![0, 1]);
    let per_agent: Vec<u64> = breakdown["agents"]
        .as_object()
        .expect("agents")
        .values()
        .map(|a| a["evalscope"]["Total Requests"].as_u64().unwrap_or(0))
        .collect();
    assert_eq!(per_agent.len(), 2);
    assert!(
        per_agent.iter().all(|n| (40..=43).contains(n)),
        "{per_agent:?}"
    );
    // the report draws a ramped stage's latency over time
    let run = stage.ancestors().nth(3).expect("run folder");
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    assert!(html.contains("Average latency over time (ramp)"));
    sim.shutdown().await;
}

const USERS_PLAN: &str = "version: 1
name: ramp
agents: {local_agents: 2}
targets:
  - name: sim
    sim: {latency: {ttft_ms: 100, itl_ms: 0}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}
      max_tokens: 1
      stages:
        - {duration_s: 4, ramp: {of: users, from: 1, to: 6, over_s: 3}}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_ramp_plan_over_two_agents_raises_the_concurrency() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = tmp.path().join("plan.yaml");
    std::fs::write(&plan, USERS_PLAN).expect("plan");
    let out = tmp.path().join("out");
    let args = RunArgs {
        plan: Some(plan),
        outputs_dir: Some(out.clone()),
        quiet: true,
        resume: None,
        run_dir: None,
        allow_env: Vec::new(),
        metrics_listen: None,
        sandbox: Default::default(),
    };
    run_plan(&args, &CancellationToken::new())
        .await
        .expect("plan runs");
    let stage = only_stage(&out);
    assert!(
        stage.ends_with("ramp_users_1_6_linear_over_3s_duration_4s"),
        "{stage:?}"
    );
    // ~100 ms a request: in flight (Little's law over each progress interval) follows the
    // users, round(1 + 5t/3); intervals end when progress arrives, so only the trend is checked
    let points = busy_points(&stage);
    assert!(points.len() >= 3, "{points:?}");
    let first = points[0].2;
    let peak = points.iter().map(|p| p.2).fold(0.0, f64::max);
    assert!(first < 3.5, "first second {first} in flight: {points:?}");
    assert!(
        peak >= 4.5,
        "peak {peak} in flight, 6 users at the end: {points:?}"
    );
    // user-seconds: ∫₀⁴ round(1 + 5t/3) dt = 16.5, so about 165 requests of 100 ms (fewer for
    // the time between requests); all 6 users from the start would send about 240
    let summary = read_json(&stage.join("benchmark_summary.json"));
    let total = summary["Total Requests"].as_u64().expect("total");
    assert!(
        (100..=175).contains(&total),
        "total {total}, expected about 165"
    );
    let breakdown: Value = read_json(&stage.join("breakdown.json"));
    let shards = breakdown["shards"].as_array().expect("shards");
    assert_eq!(shards.len(), 2);
    for s in shards {
        assert_eq!(s["ramp"]["ramp"]["from"], 1.0);
        assert_eq!(s["ramp"]["ramp"]["to"], 6.0);
    }
}

#[test]
fn bad_ramps_in_a_plan_name_the_field() {
    let vars = std::collections::HashMap::new();
    for (stage, want) in [
        (
            "{duration_s: 4, ramp: {of: users, from: 1, to: 6, over_s: 0}}",
            "workloads[0].perf.stages[0].ramp.over_s",
        ),
        (
            "{duration_s: 4, rate: 3, ramp: {from: 1, to: 6}}",
            "workloads[0].perf.stages[0].rate",
        ),
        (
            "{duration_s: 4, ramp: {from: 0, to: 0, over_s: 2}}",
            "workloads[0].perf.stages[0].ramp.to",
        ),
        (
            "{number: 9, ramp: {from: 0, to: 5, strategy: exponential}}",
            "workloads[0].perf.stages[0].ramp.strategy",
        ),
    ] {
        let text = USERS_PLAN.replace(
            "{duration_s: 4, ramp: {of: users, from: 1, to: 6, over_s: 3}}",
            stage,
        );
        let err = swarm_coordinator::plan::parse_plan(&text, Path::new("plan.yaml"), &vars)
            .expect_err(stage)
            .to_string();
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
}
