//! `coordinator perf --sla-auto-tune` over two agents against llm-sim with a capacity model:
//! at most 6 answers generate at once, so p99 TTFT jumps once concurrency passes 6, and the
//! search must find 6.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use llm_sim::{CapacityConfig, Dist, SimConfig};
use swarm_coordinator::cli::Cli;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

const KNEE: u64 = 6;

fn only_subdir(dir: &Path) -> PathBuf {
    let entries: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sla_search_finds_the_capacity_knee_over_two_agents() {
    let mut cfg = SimConfig::instant();
    // an answer holds its slot ~50 + 9 x 5 = 95 ms; one queued behind it waits that long
    cfg.latency.ttft_ms = Dist::fixed(50.0);
    cfg.latency.itl_ms = Dist::fixed(5.0);
    cfg.capacity = Some(CapacityConfig {
        max_concurrent: KNEE as u32,
        itl_per_extra_ms: 0.0,
    });
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("prompts.txt");
    std::fs::write(&data, "what is rust\nwhy is the sky blue\nexplain tcp\n").expect("dataset");
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
        "line_by_line",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--max-tokens",
        "10",
        "--sla-auto-tune",
        "--sla-variable",
        "parallel",
        "--sla-params",
        r#"[{"p99_ttft": "<=100ms"}]"#,
        "--sla-num-runs",
        "2",
        "--sla-upper-bound",
        "64",
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "sla",
    ];
    let began = Instant::now();
    let cli = Cli::try_parse_from(argv).expect("flags parse");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("sla run");
    let took = began.elapsed();

    let run = only_subdir(&out);
    let job = run.join("perf").join("sla");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(job.join("sla_summary.json")).expect("sla_summary.json"),
    )
    .expect("json");
    let result = &summary["sla_result"];
    let chosen = result["chosen"].as_u64().expect("a value was chosen");
    let probed: Vec<u64> = result["probed"]
        .as_array()
        .expect("probed")
        .iter()
        .map(|v| v.as_u64().expect("u64"))
        .collect();
    eprintln!("chosen {chosen} after {probed:?} in {took:?}");
    let err = (chosen as f64 - KNEE as f64).abs() / KNEE as f64;
    assert!(
        err <= 0.1,
        "chose {chosen}, the knee is {KNEE}; probed {probed:?}"
    );
    assert!(probed.len() <= 8, "{probed:?}");
    assert_eq!(result["variable"], "parallel");
    assert_eq!(result["num_runs"], 2);
    let row = &result["criteria"][0];
    assert_eq!(row["max_satisfied"].as_u64(), Some(chosen));
    assert_eq!(row["note"], "Satisfied");
    assert_eq!(row["criteria"], "p99_ttft <= 0.1");
    assert_eq!(result["sla_params"][0]["p99_ttft"], "<=100ms");
    // EvalScope's entries: one per probed value, averaged metrics and percentile columns
    for v in &probed {
        let e = &summary[format!("parallel_{v}")];
        assert_eq!(e["metrics"]["Concurrency"].as_u64(), Some(*v), "{e}");
        assert_eq!(e["metrics"]["Total Requests"].as_u64(), Some(2 * v), "{e}");
        assert!(e["percentiles"]["Percentiles"].is_array(), "{e}");
        assert!(e["percentiles"]["TTFT (ms)"].is_array(), "{e}");
        for run in 0..2 {
            let stage = job.join(format!("parallel_{v}_number_{}_run_{run}", 2 * v));
            assert!(stage.join("benchmark_summary.json").is_file(), "{stage:?}");
        }
    }
    assert_eq!(
        summary.as_object().expect("object").len(),
        probed.len() + 1,
        "one entry per probe plus sla_result"
    );
    // the value chosen passed and the next one up failed
    let p99 = |v: u64| {
        summary[format!("parallel_{v}")]["percentiles"]["TTFT (ms)"]
            .as_array()
            .and_then(|c| {
                let labels = summary[format!("parallel_{v}")]["percentiles"]["Percentiles"]
                    .as_array()?
                    .clone();
                let i = labels.iter().position(|l| l == "99%")?;
                c.get(i)?.as_f64()
            })
    };
    if let Some(ms) = p99(chosen) {
        assert!(ms <= 100.0, "p99 TTFT at {chosen}: {ms}");
    }
    sim.shutdown().await;
}
