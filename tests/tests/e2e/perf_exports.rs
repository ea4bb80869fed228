//! `coordinator perf --percentiles ... --export-csv --goodput ...` end to end against llm-sim:
//! the extra percentile rows follow EvalScope's in `benchmark_percentile.json`, the CSV files
//! hold the same numbers as the JSON files, and the dashboard's compare page shows goodput
//! (no data, "–", for a run without objectives).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use llm_sim::SimConfig;
use serde_json::Value;
use swarm_coordinator::app::{AppArgs, serve};
use swarm_coordinator::run_store::csv_export::{OVERVIEW_HEADER, percentile_header};
use swarm_coordinator::run_store::layout::{OVERVIEW_CSV, PERCENTILES_CSV};
use swarm_tests::run_dirs::{perf_cli, run_of};
use swarm_tests::schemas::{read_json, violations};
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// A CSV file's lines, split at commas (these files quote nothing: no field holds a comma).
fn csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(text.ends_with("\r\n"), "CRLF line ends");
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// A cell as a JSON value: empty is null, else the number it reads as.
fn cell_value(cell: &str) -> Value {
    if cell.is_empty() {
        Value::Null
    } else {
        let v: f64 = cell.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}"));
        serde_json::json!(v)
    }
}

/// `a` and `b` are the same number (or both null).
fn same(a: &Value, b: &Value, what: &str) {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => assert_eq!(x, y, "{what}"),
        _ => assert!(a.is_null() && b.is_null(), "{what}: {a} vs {b}"),
    }
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_percentiles_csv_exports_and_goodput_on_the_compare_page() {
    swarm_io::tls::install_crypto_provider();
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(5.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("prompts.txt");
    std::fs::write(&data, "a question\nanother question\n").expect("dataset");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let args = |name: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--url",
            &url,
            "--dataset",
            "line_by_line",
            "--dataset-path",
            data.to_str().expect("utf8"),
            "--parallel",
            "1",
            "2",
            "--number",
            "6",
            "10",
            "--max-tokens",
            "4",
            "--stream",
            "--outputs-dir",
            out.to_str().expect("utf8"),
            "--name",
            name,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    perf_cli(&args(
        "exported",
        &[
            "--percentiles",
            "50,99.9",
            "--export-csv",
            "--goodput",
            "ttft:5000",
        ],
    ))
    .await
    .expect("run completes");
    perf_cli(&args("plain", &[])).await.expect("run completes");
    sim.shutdown().await;

    // the run with the flags
    let run = run_of(&out, "exported");
    let job = run.join("perf/exported");
    let stages = ["parallel_1_number_6", "parallel_2_number_10"];
    for stage in stages {
        let dir = job.join(stage);
        let pct = read_json(&dir.join("benchmark_percentile.json"));
        assert_eq!(
            violations("benchmark_percentile.schema.json", &pct),
            Vec::<String>::new()
        );
        let rows = pct.as_array().expect("rows");
        // EvalScope's 11 rows (50% among them), then 99.9%
        let labels: Vec<&str> = rows
            .iter()
            .map(|r| r["Percentiles"].as_str().expect("label"))
            .collect();
        assert_eq!(labels.len(), 12, "{labels:?}");
        assert_eq!(labels[..11].last(), Some(&"max"));
        assert_eq!(labels[11], "99.9%");
        assert!(rows[11]["TTFT (ms)"].as_f64().is_some_and(|v| v >= 5.0));
        assert!(rows[11]["Latency (s)"].as_f64().is_some());

        let lines = csv(&dir.join(PERCENTILES_CSV));
        assert_eq!(lines[0], percentile_header());
        assert_eq!(lines.len(), 1 + rows.len());
        for (line, row) in lines[1..].iter().zip(rows) {
            assert_eq!(line[0], row["Percentiles"].as_str().expect("label"));
            for (cell, key) in line.iter().zip(&lines[0]).skip(1) {
                same(&cell_value(cell), &row[key.as_str()], key);
            }
        }
    }
    let lines = csv(&job.join(OVERVIEW_CSV));
    assert_eq!(lines[0], OVERVIEW_HEADER);
    assert_eq!(lines.len(), 1 + stages.len());
    for (line, stage) in lines[1..].iter().zip(stages) {
        assert_eq!(line[0], stage);
        let s = read_json(&job.join(stage).join("summary.json"));
        let e = &s["evalscope"];
        let at = |key: &str| {
            let i = OVERVIEW_HEADER
                .iter()
                .position(|h| *h == key)
                .expect("a column");
            cell_value(&line[i])
        };
        same(&at("concurrency"), &e["Concurrency"], "concurrency");
        assert_eq!(line[2], "", "closed loop: no rate, an empty cell");
        same(&at("total_requests"), &e["Total Requests"], "total");
        same(&at("success_requests"), &e["Success Requests"], "success");
        same(&at("failed_requests"), &e["Failed Requests"], "failed");
        same(&at("req_per_s"), &e["Req Throughput (req/s)"], "rps");
        same(&at("avg_latency_s"), &e["Avg Latency (s)"], "avg latency");
        same(&at("p99_latency_s"), &s["latency_s"]["p99"], "p99 latency");
        same(&at("avg_ttft_ms"), &e["Avg TTFT (ms)"], "avg ttft");
        same(&at("p99_ttft_ms"), &s["ttft_ms"]["p99"], "p99 ttft");
        same(&at("avg_tpot_ms"), &e["Avg TPOT (ms)"], "avg tpot");
        same(
            &at("output_tok_per_s"),
            &e["Output Throughput (tok/s)"],
            "tok/s",
        );
        same(&at("goodput_req_per_s"), &s["goodput_req_per_s"], "goodput");
        same(&at("goodput_share"), &s["goodput_share"], "goodput share");
        assert_eq!(s["goodput_share"], 1.0, "5 ms TTFT meets 5 s: {s}");
        assert!(s["goodput_req_per_s"].as_f64().is_some_and(|v| v > 0.0));
    }

    // the run without the flags: EvalScope's rows only, no CSV
    let plain = run_of(&out, "plain").join("perf/plain");
    for stage in stages {
        let pct = read_json(&plain.join(stage).join("benchmark_percentile.json"));
        assert_eq!(pct.as_array().map(Vec::len), Some(11));
        assert!(!plain.join(stage).join(PERCENTILES_CSV).exists());
    }
    assert!(!plain.join(OVERVIEW_CSV).exists());

    // the compare page: goodput for each stage of the run with objectives, "–" for the other
    let cancel = CancellationToken::new();
    let addr = serve(
        &AppArgs {
            outputs_dir: out.clone(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
        },
        cancel.clone(),
    )
    .await
    .expect("app binds");
    let id = |p: PathBuf| {
        p.file_name()
            .and_then(|f| f.to_str())
            .map(str::to_string)
            .expect("an id")
    };
    let (a, b) = (id(run_of(&out, "exported")), id(run_of(&out, "plain")));
    let (status, html) = get(addr, &format!("/compare?run={a}&run={b}")).await;
    cancel.cancel();
    assert_eq!(status, 200);
    assert!(html.contains("<th>goodput (req/s)</th><th>meeting SLOs (%)</th>"));
    let row_of = |run: &str, stage: &str| -> String {
        let at = html
            .find(&format!("<tr><td>{run}</td>"))
            .and_then(|i| html[i..].find(&format!("<td>{stage}</td>")).map(|j| i + j))
            .unwrap_or_else(|| panic!("no row {run} {stage} in {html}"));
        let end = html[at..].find("</tr>").map_or(html.len(), |e| at + e);
        html[at..end].to_string()
    };
    for stage in stages {
        let s = read_json(&job.join(stage).join("summary.json"));
        let goodput = s["goodput_req_per_s"].as_f64().expect("goodput");
        let row = row_of(&a, stage);
        assert!(
            row.ends_with(&format!(
                "<td class=\"n\">{}</td><td class=\"n\">100</td>",
                swarm_coordinator::report::html::escape::num(goodput)
            )),
            "{row}"
        );
        let row = row_of(&b, stage);
        assert!(
            row.ends_with("<td class=\"n\">–</td><td class=\"n\">–</td>"),
            "no objectives: no data, not 0: {row}"
        );
    }
}

/// A stage over two regions with goodput objectives: each region's goodput is in
/// `breakdown.json` (from its own counters) and in the report's per-label table; the extra
/// percentile rows and `percentiles.csv` come with the stage's files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_region_has_its_goodput() {
    use std::sync::Arc;
    use std::time::Duration;
    use swarm_common::metrics::aggregate::HistSettings;
    use swarm_common::prompt::Prompt;
    use swarm_common::schedule::LoadModel;
    use swarm_common::shard::{ApiKind, GenParams};
    use swarm_coordinator::cluster::{Cluster, ClusterConfig, PromptSet};
    use swarm_coordinator::perf::job::{Outputs, PerfJob, StageSpec};
    use swarm_coordinator::perf::stage::{Group, ProgressMode, run_stage};
    use swarm_coordinator::report::html::escape::num;

    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(2.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    let sim = start_sim(cfg).await;
    let cancel = CancellationToken::new();
    let mut ccfg = ClusterConfig::local("regions", 2);
    ccfg.heartbeat_ms = 100;
    ccfg.progress_ms = 100;
    let mut cluster = Cluster::start(ccfg, &cancel).await.expect("cluster");
    let agents = cluster
        .wait_for(2, &Default::default(), Duration::from_secs(10))
        .await
        .expect("agents");
    let regions = ["region=eu-west", "region=us-east"];
    let groups: Vec<Group> = regions
        .iter()
        .zip(&agents)
        .map(|(l, a)| Group {
            label: Some(l.to_string()),
            agents: vec![a.clone()],
        })
        .collect();
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 2 }, Some(20), None);
    let job = PerfJob {
        name: "w".into(),
        target: swarm_tests::sim_target(&sim, ApiKind::Chat),
        gen_params: GenParams {
            stream: true,
            max_tokens: Some(4),
            ..Default::default()
        },
        prompts: Arc::new(
            PromptSet::from_prompts(
                &(0..10)
                    .map(|i| Prompt::text(format!("q {i}")))
                    .collect::<Vec<_>>(),
            )
            .expect("prompt set"),
        ),
        tokenizer: None,
        warmup: 0,
        seed: 1,
        hist: HistSettings::default(),
        stages: vec![stage.clone()],
        sqlite: false,
        goodput: Some(swarm_common::goodput::Goodput::parse(["ttft:5000"]).expect("goodput")),
        thresholds: vec![],
        early_stop: Default::default(),
        multi_turn: None,
        outputs: Box::new(Outputs {
            percentiles: vec![99.9],
            export_csv: true,
            speed_benchmark: false,
        }),
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("20261127_120000_regions");
    let dir = run.join("perf/w").join(&stage.name);
    let r = run_stage(
        &mut cluster,
        &job,
        &stage,
        &groups,
        &dir,
        ProgressMode::Quiet,
        &cancel,
    )
    .await
    .expect("stage runs");
    cluster.shutdown().await;
    sim.shutdown().await;
    assert_eq!(
        r.percentiles.last().map(|p| p.percentile.as_str()),
        Some("99.9%")
    );
    assert!(dir.join(PERCENTILES_CSV).exists());

    let breakdown = read_json(&dir.join("breakdown.json"));
    let html = std::fs::read_to_string(
        swarm_coordinator::report::html::write_report(&run).expect("report"),
    )
    .expect("read");
    let at = html
        .find("<tr><td>Goodput (req/s)</td>")
        .expect("a goodput row");
    let row = &html[at..];
    let row = &row[..row.find("</tr>").expect("closed")];
    let mut want = String::from("<tr><td>Goodput (req/s)</td>");
    for l in regions {
        let s = &breakdown["labels"][l]["summary"];
        assert_eq!(s["goodput_share"], 1.0, "{l}: 2 ms TTFT meets 5 s");
        assert_eq!(s["goodput_req_per_s"], s["req_per_s"], "{l}: every request");
        let g = s["goodput_req_per_s"].as_f64().expect("goodput");
        assert!(g > 0.0);
        want.push_str(&format!("<td class=\"n\">{}</td>", num(g)));
    }
    assert_eq!(row, want);
    // the per-label table of the terminal carries it too
    assert!(
        r.per_label
            .iter()
            .all(|(_, _, rich)| rich.goodput_share == Some(1.0))
    );
}

/// The plan fields: `percentiles` checked where the plan is read (field path), `export_csv` a
/// boolean; the flags checked the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn percentiles_are_checked_in_plans_and_flags() {
    let plan = |extra: &str| {
        format!(
            "version: 1\nname: t\ntargets:\n  - name: sim\n    sim: {{latency: {{ttft_ms: 1, itl_ms: 0}}}}\n\
             workloads:\n  - name: w\n    perf:\n      target: sim\n      dataset: {{kind: random, \
             tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}}\n{extra}      \
             stages:\n        - {{parallel: 2, number: 6}}\n"
        )
    };
    let parse = |text: &str| {
        swarm_coordinator::plan::parse_plan(
            text,
            Path::new("plan.yaml"),
            &std::collections::HashMap::new(),
        )
        .map_err(|e| e.to_string())
    };
    let ok = parse(&plan(
        "      percentiles: [99.9, 50, 99.9]\n      export_csv: true\n",
    ))
    .expect("valid");
    let perf = ok.workloads[0].perf.as_ref().expect("perf");
    assert_eq!(perf.percentiles, [99.9, 50.0, 99.9]);
    assert!(perf.export_csv);
    for bad in ["[100]", "[0]", "[-5]"] {
        let err = parse(&plan(&format!("      percentiles: {bad}\n"))).expect_err(bad);
        assert!(
            err.contains("workloads[0].perf.percentiles") && err.contains("between 0 and 100"),
            "{err}"
        );
    }
    let many: Vec<String> = (1..=21).map(|i| i.to_string()).collect();
    let err = parse(&plan(&format!(
        "      percentiles: [{}]\n",
        many.join(", ")
    )))
    .expect_err("too many");
    assert!(err.contains("at most 20"), "{err}");

    let err = perf_cli(&["--sim", "--number", "2", "--percentiles", "50,100"].map(String::from))
        .await
        .expect_err("100 is no percentile");
    assert!(format!("{err:#}").contains("--percentiles"), "{err:#}");
}
