//! End to end: needle_haystack (the fixture haystacks, the SmolLM2 tokenizer from ../shared)
//! against llm-sim in answer-key mode at accuracy 0.5, scored by rule (`--judge-strategy rule`:
//! EvalScope's default for this benchmark is the judge, see `eval_needle_judge`): the report holds the overall accuracy and
//! one metric per (context length, depth) with exactly the per-subset scores the simulator was
//! set to produce, the heat-map files are written, and report.html and the dashboard's run page
//! draw the heat-maps.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_coordinator::report::html::write_report;
use swarm_eval::answer_key::{build, prompt_sha256};
use swarm_eval::judge::JudgeStrategy;
use swarm_eval::{DatasetArgs, registry};
use swarm_tests::keyed_eval::{keyed_sim, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

const RUN: &str = "20261207_060000_needle";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needle_haystack_scores_per_cell_and_draws_heatmaps() {
    swarm_io::tls::install_crypto_provider();
    let tokenizer = swarm_tests::shared_data().join("tokenizers/smollm2-135m");
    if !tokenizer.join("tokenizer.json").is_file() {
        swarm_tests::skipped(
            "e2e::eval_needle",
            &format!("{} is absent", tokenizer.display()),
            false,
        );
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = tmp.path().join(RUN);
    let args = DatasetArgs {
        local_path: Some(fixture("needle_haystack")),
        extra_params: json!({
            "context_lengths_min": 300,
            "context_lengths_max": 1200,
            "context_lengths_num_intervals": 3,
            "document_depth_percent_intervals": 4,
            "tokenizer_path": tokenizer.display().to_string(),
            "show_score": true,
        })
        .as_object()
        .expect("object")
        .clone(),
        ..DatasetArgs::default()
    };
    let bench = registry::benchmark("needle_haystack").expect("registered");
    let samples = bench.load(&args).expect("samples");
    assert_eq!(samples.len(), 24, "2 subsets × 3 lengths × 4 depths");
    let entries = build(&samples, bench.as_ref(), false).expect("key");
    std::fs::create_dir_all(&run).expect("run dir");
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 11, 0.5, (2.0, 1.0));
    let sim = start_sim(cfg).await;

    // what the simulator will answer, per subset and cell, computed independently of the run
    let mut expected: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut right = BTreeMap::<String, usize>::new();
    for s in &samples {
        let ok = key.answers_correctly(&prompt_sha256(s).expect("user message")) == Some(true);
        let cell = format!(
            "Context#{} Depth#{}",
            s.metadata["context_length"], s.metadata["depth_percent"]
        );
        expected.insert((cell, s.subset.clone()), if ok { 1.0 } else { 0.0 });
        *right.entry(s.subset.clone()).or_default() += usize::from(ok);
    }
    // exact mode answers round(0.5 × N) of the N distinct prompts right; a short Chinese context
    // has no `。` token to walk back to, so its depths below 100 put the needle first and share a
    // prompt (as in EvalScope), each counted as often as it is asked
    let distinct = key.len();
    assert!(distinct < 24, "some prompts repeat: {distinct}");
    assert_eq!(key.correct_count(), distinct.div_ceil(2));
    let total_right: usize = right.values().sum();
    assert!(
        expected.values().any(|v| *v == 1.0) && expected.values().any(|v| *v == 0.0),
        "some cells right and some wrong"
    );

    let cancel = CancellationToken::new();
    let mut ccfg = ClusterConfig::local("needle", 1);
    ccfg.heartbeat_ms = 100;
    let (mut cluster, agents) = local_cluster(ccfg, &cancel).await;
    let mut job = sim_job(
        "needle",
        &sim,
        BTreeMap::from([("needle_haystack".to_owned(), args)]),
        true,
        4,
    );
    job.judge_strategy = JudgeStrategy::Rule;
    let root = run.join("eval");
    run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
        .await
        .expect("the eval completes");
    cluster.shutdown().await;
    sim.shutdown().await;

    let reports = root.join("reports/sim-model");
    let report = read_json(&reports.join("needle_haystack.json"));
    let metrics = report["metrics"].as_array().expect("metrics");
    assert_eq!(metrics[0]["name"], "mean_acc");
    let overall = (total_right as f64 / 24.0 * 1e4).round() / 1e4;
    assert_eq!(report["score"].as_f64(), Some(overall));
    assert_eq!(report["num"], 24);
    // then one metric per cell, by length then depth
    let names: Vec<&str> = metrics[1..]
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    let mut want = Vec::new();
    for l in [300, 750, 1200] {
        for d in [0, 33, 67, 100] {
            want.push(format!("Context#{l} Depth#{d}"));
        }
    }
    assert_eq!(names, want);
    let mut got: BTreeMap<(String, String), f64> = BTreeMap::new();
    for m in &metrics[1..] {
        for s in m["categories"][0]["subsets"].as_array().expect("subsets") {
            assert_eq!(s["num"], 1);
            got.insert(
                (
                    m["name"].as_str().expect("name").to_owned(),
                    s["name"].as_str().expect("subset").to_owned(),
                ),
                s["score"].as_f64().expect("score"),
            );
        }
    }
    assert_eq!(got, expected);
    // the overall accuracy per subset
    for s in metrics[0]["categories"][0]["subsets"]
        .as_array()
        .expect("subsets")
    {
        let subset = s["name"].as_str().expect("subset");
        let want = right[subset] as f64 / 12.0;
        assert_eq!(
            s["score"].as_f64(),
            Some((want * 1e4).round() / 1e4),
            "{subset}"
        );
    }

    // EvalScope's heat-map files (as SVG), values written in (show_score)
    for subset in ["english", "chinese"] {
        let svg =
            std::fs::read_to_string(reports.join(format!("needle_haystack_heatmap_{subset}.svg")))
                .expect("heat-map file");
        assert_eq!(svg.matches("class=\"cell\"").count(), 12, "{subset}");
        assert_eq!(svg.matches("class=\"vl\"").count(), 12, "{subset}");
    }

    // report.html: a heat-map per subset, a cell per (length, depth) with its score in its title
    let html = std::fs::read_to_string(write_report(&run).expect("report")).expect("read");
    let heatmaps = html.matches("data-chart=\"heatmap\"").count();
    assert_eq!(heatmaps, 2, "one heat-map per subset");
    for ((cell, subset), score) in &expected {
        let (l, d) = cell
            .strip_prefix("Context#")
            .and_then(|c| c.split_once(" Depth#"))
            .expect("cell");
        let title = format!(
            "<title>{subset}: context {l} tokens, depth {d} %, 1 sample: {}</title>",
            if *score == 1.0 { "1" } else { "0" }
        );
        assert!(html.contains(&title), "{title}");
    }
    // the cells are in the heat-map, not in the tables
    assert!(!html.contains("<td>Context#300 Depth#0</td>"));

    // the dashboard's run page is the same page
    let cancel = CancellationToken::new();
    let addr = super::app_http::start(tmp.path(), &cancel).await;
    let page = reqwest::get(format!("http://{addr}/runs/{RUN}"))
        .await
        .expect("request");
    assert_eq!(page.status().as_u16(), 200);
    let body = page.text().await.expect("body");
    assert_eq!(body.matches("data-chart=\"heatmap\"").count(), 2, "{body}");
    cancel.cancel();
    tokio::time::sleep(Duration::from_millis(50)).await;
}
