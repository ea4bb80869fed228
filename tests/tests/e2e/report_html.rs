//! `report.html` as runs write it: a perf sweep (sweep charts, percentiles, distributions, time
//! series, errors), a stage over two regions (labels side by side) and an eval run (EvalScope's
//! table, subsets, levels). Each is checked for its sections and for numbers taken from the
//! run's JSON files.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use llm_sim::Dist;
use serde_json::Value;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{ApiKind, GenParams};
use swarm_coordinator::cli::Cli;
use swarm_coordinator::cluster::PromptSet;
use swarm_coordinator::cluster::{Cluster, ClusterConfig};
use swarm_coordinator::perf::job::{PerfJob, StageSpec};
use swarm_coordinator::perf::stage::{Group, ProgressMode, run_stage};
use swarm_coordinator::report::html::escape::num;
use swarm_coordinator::report::html::write_report;
use swarm_coordinator::run::{RunOptions, run_parsed};
use swarm_eval::answer_key::{build, write_jsonl};
use swarm_eval::{DatasetArgs, registry};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, sim_target, start_sim};
use tokio_util::sync::CancellationToken;

/// The `<tr>` of table `class` whose first cell is `first`, or panics.
fn row<'a>(html: &'a str, class: &str, first: &str) -> &'a str {
    let start = html
        .find(&format!("<table class=\"{class}\""))
        .unwrap_or_else(|| panic!("no table {class}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").expect("closed")];
    let at = table
        .find(&format!("<tr><td>{first}</td>"))
        .or_else(|| table.find(&format!("<tr><td class=\"n\">{first}</td>")))
        .unwrap_or_else(|| panic!("no row {first:?} in table {class}: {table}"));
    let r = &table[at..];
    &r[..r.find("</tr>").expect("row closed")]
}

fn cell(v: f64) -> String {
    format!("<td class=\"n\">{}</td>", num(v))
}

/// Nothing is fetched: no scripts, no external URLs.
fn self_contained(html: &str) {
    assert!(!html.contains("<script"), "no scripts");
    for bad in ["src=\"http", "href=\"http", "@import", "url(http", "<link"] {
        assert!(!html.contains(bad), "fetches something: {bad}");
    }
    assert!(html.contains("@media print"), "printable");
}

const SWEEP: &str = "version: 1
name: sweep
targets:
  - name: sim
    sim: {latency: {ttft_ms: 3, itl_ms: 1}, faults: {rate_500: 0.2}}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}
      max_tokens: 6
      stages:
        - {parallel: 1, number: 10}
        - {parallel: 2, number: 20}
        - {parallel: 4, number: 40}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_perf_sweep_report_shows_the_sweep_its_stages_and_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = swarm_coordinator::plan::parse_plan(
        SWEEP,
        Path::new("plan.yaml"),
        &std::collections::HashMap::<String, String>::new(),
    )
    .expect("plan parses");
    let options = RunOptions {
        outputs: tmp.path().to_path_buf(),
        progress: ProgressMode::Quiet,
        resume: None,
        run_dir: None,
        metrics_listen: None,
        sandbox: Default::default(),
    };
    let run = run_parsed(
        &plan,
        SWEEP,
        Path::new("."),
        &options,
        &CancellationToken::new(),
    )
    .await
    .expect("sweep runs");
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html written");
    self_contained(&html);
    for section in [
        "Perf: chat",
        "Sweep overview",
        "Throughput against load",
        "p99 TTFT against load",
        "Throughput over time",
        "Concurrency over time",
        "<h3>Errors</h3>",
    ] {
        assert!(html.contains(section), "section {section:?} missing");
    }
    let mut errors_seen = 0;
    for (conc, name) in [
        (1, "parallel_1_number_10"),
        (2, "parallel_2_number_20"),
        (4, "parallel_4_number_40"),
    ] {
        let dir = run.join("perf/chat").join(name);
        let s = read_json(&dir.join("summary.json"));
        let es = &s["evalscope"];
        let f = |v: &Value| v.as_f64().expect("number");
        // the sweep row carries the stage's numbers
        let sweep = row(&html, "sweep", name);
        for key in [
            "Total Requests",
            "Avg TTFT (ms)",
            "Output Throughput (tok/s)",
        ] {
            assert!(
                sweep.contains(&cell(f(&es[key]))),
                "{name} {key} in {sweep}"
            );
        }
        let p99_ttft = f(&s["ttft_ms"]["p99"]);
        assert!(
            sweep.contains(&cell(p99_ttft)),
            "{name} p99 TTFT in {sweep}"
        );
        // the p99 TTFT sweep chart has this stage's point at its concurrency
        assert!(
            html.contains(&format!("p99 TTFT: {conc} → {}", num(p99_ttft))),
            "{name}: sweep chart point"
        );
        // the percentile table's 99% row equals benchmark_percentile.json
        let pct = read_json(&dir.join("benchmark_percentile.json"));
        let p99_row = pct
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["Percentiles"] == "99%")
            .expect("99% row");
        let stage_at = html
            .find(&format!("id=\"stage-chat-{name}\""))
            .expect("stage section");
        let stage_html = &html[stage_at..];
        let stage_html = &stage_html[..stage_html.find("</section>").expect("end")];
        let r99 = row(stage_html, "percentiles", "99%");
        for key in ["TTFT (ms)", "Latency (s)", "ITL (ms)"] {
            assert!(
                r99.contains(&cell(f(&p99_row[key]))),
                "{name} 99% {key}: {r99}"
            );
        }
        // distributions from the saved histograms
        let count = s["ttft_ms"]["count"].as_u64().expect("count");
        assert!(
            stage_html.contains(&format!("ttft distribution (CDF, {count} values)")),
            "{name}: TTFT CDF"
        );
        // errors by class, as summary.json counts them
        for (class, n) in s["errors"].as_object().expect("errors") {
            let r = row(stage_html, "errors", class);
            assert!(r.contains(&format!("<td class=\"n\">{n}</td>")), "{r}");
            errors_seen += 1;
        }
        // the time series accounts for every request of the stage
        let ts = read_json(&dir.join("timeseries.json"));
        let points = ts.as_array().expect("points");
        assert!(!points.is_empty(), "{name}: time series");
        let mut t0 = 0.0;
        let mut requests = 0.0;
        for p in points {
            let t = f(&p["t_s"]);
            requests += f(&p["requests_per_s"]) * (t - t0);
            t0 = t;
        }
        assert!(
            (requests - f(&es["Total Requests"])).abs() < 0.6,
            "{name}: {requests} requests over time"
        );
        assert!(
            !dir.join("live.json").exists(),
            "live.json removed at stage end"
        );
    }
    assert!(
        errors_seen > 0,
        "a 20% fault rate shows up in the error tables"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_region_report_puts_the_regions_side_by_side() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.latency.ttft_ms = Dist::fixed(2.0);
    cfg.latency.itl_ms = Dist::fixed(1.0);
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
    let groups = vec![
        Group {
            label: Some("region=eu-west".into()),
            agents: vec![agents[0].clone()],
        },
        Group {
            label: Some("region=us-east".into()),
            agents: vec![agents[1].clone()],
        },
    ];
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 2 }, Some(30), None);
    let job = PerfJob {
        name: "w".into(),
        target: sim_target(&sim, ApiKind::Chat),
        gen_params: GenParams {
            stream: true,
            max_tokens: Some(4),
            ..Default::default()
        },
        prompts: Arc::new(
            PromptSet::from_prompts(
                &(0..20)
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
        goodput: None,
        thresholds: vec![],
        early_stop: Default::default(),
        multi_turn: None,
        outputs: Default::default(),
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join("20261127_120000_regions");
    let dir = run.join("perf/w").join(&stage.name);
    run_stage(
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
    let html = std::fs::read_to_string(write_report(&run).expect("report")).expect("read");
    self_contained(&html);
    assert!(html.contains("Per placement label") && html.contains("TTFT by label"));
    let breakdown = read_json(&dir.join("breakdown.json"));
    let labels = breakdown["labels"].as_object().expect("labels");
    assert_eq!(labels.len(), 2);
    // header: one column per region, in breakdown order
    assert!(
        html.contains("<th>metric</th><th>region=eu-west</th><th>region=us-east</th>"),
        "regions side by side"
    );
    let totals = row(&html, "labels", "Total Requests");
    let p99 = row(&html, "labels", "P99 TTFT (ms)");
    let mut want_totals = String::from("<tr><td>Total Requests</td>");
    let mut want_p99 = String::from("<tr><td>P99 TTFT (ms)</td>");
    for l in ["region=eu-west", "region=us-east"] {
        let n = labels[l]["evalscope"]["Total Requests"]
            .as_f64()
            .expect("n");
        assert_eq!(n, 30.0, "each region runs the whole stage");
        want_totals.push_str(&cell(n));
        want_p99.push_str(&cell(
            labels[l]["summary"]["ttft_ms"]["p99"]
                .as_f64()
                .expect("p99"),
        ));
        assert!(html.contains(&format!("p99 {l}: ")), "bar of {l}");
    }
    assert_eq!(totals, want_totals);
    assert_eq!(p99, want_p99);
    // each region's own histograms beside the stage's, drawn over each other
    let cdfs = swarm_coordinator::report::cdf::read_cdfs;
    let whole = cdfs(&dir.join("histograms"));
    let ttft_count = |c: &[swarm_coordinator::report::cdf::Cdf]| {
        c.iter().find(|c| c.metric == "ttft").map(|c| c.count)
    };
    assert_eq!(ttft_count(&whole), Some(60));
    for l in ["region=eu-west", "region=us-east"] {
        let own = cdfs(&dir.join("histograms/labels").join(l));
        assert_eq!(ttft_count(&own), Some(30), "{l}: its own 30 requests");
    }
    let at = html
        .find("TTFT distribution by label (CDF)")
        .expect("the regions' TTFT overlaid");
    let chart = &html[at..];
    let chart = &chart[..chart.find("</svg>").expect("closed")];
    assert!(
        chart.contains("data-series=\"region=eu-west\"")
            && chart.contains("data-series=\"region=us-east\""),
        "{chart}"
    );
    assert!(html.contains("Latency distribution by label (CDF)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_report_shows_the_table_subsets_and_levels() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // llm-sim answers from a key built from the same samples: about half right
    let mut entries = Vec::new();
    let mut dargs = BTreeMap::new();
    for (name, path) in [
        ("gsm8k", fixture("gsm8k/test.jsonl")),
        ("math_500", fixture("math_500/test.jsonl")),
    ] {
        let bench = registry::benchmark(name).expect("known");
        let args = DatasetArgs {
            local_path: Some(path.clone()),
            limit: Some(10),
            ..Default::default()
        };
        let samples = bench.load(&args).expect("loads");
        entries.extend(build(&samples, bench.as_ref(), false).expect("key"));
        dargs.insert(name, serde_json::json!({"local_path": path}));
    }
    let key = tmp.path().join("key.jsonl");
    write_jsonl(&key, &entries).expect("key written");
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.seed = 11;
    cfg.answer_key = Some(
        serde_json::from_value(serde_json::json!({"path": key, "accuracy": 0.5})).expect("key"),
    );
    let sim = start_sim(cfg).await;
    let url = format!("{}/v1/chat/completions", sim.url());
    let out = tmp.path().join("out");
    let dargs = serde_json::to_string(&dargs).expect("json");
    let argv = [
        "coordinator",
        "eval",
        "--model",
        "sim-model",
        "--api-url",
        &url,
        "--datasets",
        "gsm8k",
        "math_500",
        "--dataset-args",
        &dargs,
        "--limit",
        "10",
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "ev",
        "--generation-config",
        r#"{"max_tokens": 64, "temperature": 0}"#,
    ];
    swarm_coordinator::run(
        Cli::try_parse_from(argv).expect("flags"),
        CancellationToken::new(),
    )
    .await
    .expect("eval runs");
    sim.shutdown().await;
    let run = std::fs::read_dir(&out)
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html written");
    self_contained(&html);
    let mut nonzero = 0;
    for bench in ["gsm8k", "math_500"] {
        let r = read_json(&run.join(format!("eval/ev/reports/sim-model/{bench}.json")));
        let task_type = registry::benchmark(bench).expect("known").meta().task_type;
        for m in r["metrics"].as_array().expect("metrics") {
            let score = m["score"].as_f64().expect("score");
            if score > 0.0 {
                nonzero += 1;
            }
            let want = format!(
                "<tr><td>{task_type}</td><td>{}</td><td>{bench}</td><td class=\"n\">{score:.4}</td><td class=\"n\">{}</td></tr>",
                m["name"].as_str().expect("name"),
                m["num"]
            );
            assert!(html.contains(&want), "overview row {want}");
            for c in m["categories"].as_array().expect("categories") {
                for s in c["subsets"].as_array().expect("subsets") {
                    let subset = s["name"].as_str().expect("name");
                    let sc = s["score"].as_f64().expect("score");
                    assert!(
                        html.contains(&format!(
                            "<td>{subset}</td><td class=\"n\">{}</td><td class=\"n\">{sc:.4}</td>",
                            s["num"]
                        )),
                        "{bench} subset {subset}"
                    );
                    assert!(
                        html.contains(&format!(
                            "<title>{} {subset}: {}</title>",
                            m["name"].as_str().expect("name"),
                            num(sc)
                        )),
                        "{bench}: bar of {subset}"
                    );
                }
            }
        }
        assert!(html.contains(&format!("{bench}: score per subset")));
    }
    assert!(nonzero > 0, "the answer key makes some answers right");
    assert!(
        html.contains("Level 1") && html.contains("Level 2"),
        "math_500's levels are charted"
    );
}
