//! `coordinator eval` end to end against llm-sim: samples leased to two agents, every
//! (sample, repeat) stored once, reports written; a rerun with --use-cache generates nothing new;
//! --rescore re-scores saved predictions without the model; progress.json counts done / total.

use std::path::Path;

use clap::Parser;
use swarm_coordinator::cli::Cli;
use swarm_tests::schemas::{read_json, violations};
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

fn lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

async fn eval(args: &[&str]) -> anyhow::Result<()> {
    let mut argv = vec!["coordinator", "eval"];
    argv.extend_from_slice(args);
    swarm_coordinator::run(Cli::try_parse_from(argv)?, CancellationToken::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eval_leases_stores_once_resumes_and_rescores() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.record_truth = true;
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let dargs = serde_json::json!({
        "gsm8k": {"local_path": fixture("gsm8k/test.jsonl")},
        "iquiz": {"local_path": fixture("iquiz/iquiz.jsonl")},
    })
    .to_string();
    let common = [
        "--model",
        "sim-model",
        "--api-url",
        &url,
        "--datasets",
        "gsm8k",
        "iquiz",
        "--dataset-args",
        &dargs,
        "--limit",
        "6",
        "--repeats",
        "2",
        "--eval-batch-size",
        "4",
        "--agents",
        "2",
        "--generation-config",
        r#"{"max_tokens": 8, "temperature": 0, "chat_template_kwargs": {"enable_thinking": false}}"#,
    ];
    let mut first = common.to_vec();
    first.extend(["--outputs-dir", out.to_str().expect("utf8"), "--name", "e"]);
    eval(&first).await.expect("eval runs");
    let run = std::fs::read_dir(&out)
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let root = run.join("eval/e");
    // gsm8k has one subset (6 samples), iquiz two (6 each): ×2 repeats
    let gsm = root.join("predictions/sim-model/gsm8k_main.jsonl");
    assert_eq!(lines(&gsm), 12, "every (sample, repeat) exactly once");
    let iq: usize = ["IQ", "EQ"]
        .iter()
        .map(|s| lines(&root.join(format!("predictions/sim-model/iquiz_{s}.jsonl"))))
        .sum();
    assert_eq!(iq, 24);
    // the run's sample index is written with it, up to date with its files
    assert!(
        run.join(swarm_coordinator::app::samples::INDEX_FILE)
            .is_file()
    );
    let ix = swarm_coordinator::app::samples::open_index(&run)
        .expect("index opens")
        .expect("index is up to date");
    assert_eq!(ix.total, 36);
    let report = read_json(&root.join("reports/sim-model/gsm8k.json"));
    assert_eq!(report["dataset_name"], "gsm8k");
    // the simulator answers lorem ipsum: nothing is correct, every planned item is counted
    assert_eq!(report["score"], 0.0);
    let names: Vec<&str> = report["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("pass@")),
        "two repeats report pass@k too: {names:?}"
    );
    assert!(
        report["metrics"][0]["num"].as_u64().unwrap_or(0) >= 6,
        "{report}"
    );
    // done / total per benchmark, as the live page shows it
    let check_progress = || {
        let progress = read_json(&root.join("progress.json"));
        assert_eq!(
            violations("progress.schema.json", &progress),
            Vec::<String>::new()
        );
        let m = &progress["models"]["sim-model"];
        assert_eq!(m["finished"], true);
        assert_eq!(
            m["benchmarks"],
            serde_json::json!([
                {"name": "gsm8k", "total": 12, "done": 12, "failed": 0},
                {"name": "iquiz", "total": 24, "done": 24, "failed": 0},
            ])
        );
    };
    check_progress();
    let requests_before = sim.truth.len();
    // one request per (sample, repeat), and the pre-flight check's one
    assert_eq!(
        requests_before, 37,
        "one request per (sample, repeat) and the probe"
    );

    // tamper with the stored scores: a resumed run scores kept predictions with today's scorers
    let tampered = std::fs::read_to_string(&gsm)
        .expect("read")
        .replace("\"acc\":0.0", "\"acc\":1.0");
    assert!(
        tampered.contains("\"acc\":1.0"),
        "scores are stored per prediction"
    );
    std::fs::write(&gsm, tampered).expect("write");
    // resume: nothing left to generate, no request reaches the model
    let mut again = common.to_vec();
    let run_s = run.to_str().expect("utf8").to_string();
    // nothing left to generate, and no pre-flight request: the server sees nothing new
    again.extend(["--use-cache", &run_s, "--no-test-connection"]);
    eval(&again).await.expect("resume runs");
    assert_eq!(lines(&gsm), 12, "resume re-generated nothing");
    let resumed = read_json(&root.join("reports/sim-model/gsm8k.json"));
    assert_eq!(
        resumed["score"], 0.0,
        "kept predictions were re-scored, not trusted"
    );
    assert_eq!(sim.truth.len(), requests_before);
    check_progress(); // kept predictions count as done

    // rescore without the model (no --api-url)
    eval(&[
        "--model",
        "sim-model",
        "--datasets",
        "gsm8k",
        "iquiz",
        "--dataset-args",
        &dargs,
        "--limit",
        "6",
        "--repeats",
        "2",
        "--rescore",
        &run_s,
    ])
    .await
    .expect("rescore runs");
    let rescored = read_json(&root.join("reports/sim-model/gsm8k.json"));
    assert_eq!(rescored["score"], report["score"]);

    // a better answer for the first sample, then a rescore: the reviews (what the dashboard
    // shows) say what the report counts
    let reviews = root.join("reviews/sim-model/gsm8k_main.jsonl");
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&reviews)
            .expect("reviews")
            .lines()
            .next()
            .expect("a review"),
    )
    .expect("json");
    // EvalScope's field types, so its own viewer and scripts read our folders
    assert!(first["index"].is_u64(), "index as an integer: {first}");
    assert!(first["sample_score"]["sample_id"].is_u64(), "{first}");
    let gold = first["target"].as_str().expect("target").to_string();
    let index = first["index"].clone();
    let fixed: Vec<String> = std::fs::read_to_string(&gsm)
        .expect("predictions")
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("json");
            if v["index"] == index {
                v["swarm"]["completion"] = format!("The answer is \\boxed{{{gold}}}").into();
            }
            v.to_string()
        })
        .collect();
    std::fs::write(&gsm, fixed.join("\n") + "\n").expect("write");
    eval(&[
        "--model",
        "sim-model",
        "--datasets",
        "gsm8k",
        "iquiz",
        "--dataset-args",
        &dargs,
        "--limit",
        "6",
        "--repeats",
        "2",
        "--rescore",
        &run_s,
    ])
    .await
    .expect("rescore runs");
    let report = read_json(&root.join("reports/sim-model/gsm8k.json"));
    let score = report["score"].as_f64().expect("score");
    let right: Vec<f64> = std::fs::read_to_string(&reviews)
        .expect("reviews")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["sample_score"]["score"]["value"]["acc"]
                .as_f64()
                .expect("acc")
        })
        .collect();
    assert_eq!(right.len(), 12, "one review per prediction");
    let mean = right.iter().sum::<f64>() / right.len() as f64;
    assert!(score > 0.0, "the better answer counts: {report}");
    assert!(
        (mean - score).abs() < 1e-4,
        "reviews average {mean}, the report says {score}"
    );
    // the run saved its task: `--rescore` alone repeats it
    eval(&["--rescore", &run_s])
        .await
        .expect("a flagless rescore");
    let again = read_json(&root.join("reports/sim-model/gsm8k.json"));
    assert_eq!(again["score"], report["score"]);
    assert_eq!(again["metrics"][0]["num"], report["metrics"][0]["num"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eval_workload_in_a_plan_runs_on_the_plan_agents() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = format!(
        "version: 1
name: planned-eval
agents: {{local_agents: 2}}
targets:
  - name: sim
    sim: {{latency: {{ttft_ms: 0, itl_ms: 0}}}}
workloads:
  - name: quiz
    eval:
      target: sim
      datasets: [iquiz]
      dataset_args: {{iquiz: {{local_path: '{}'}}}}
      generation_config: {{max_tokens: 4}}
      limit: 3
",
        fixture("iquiz/iquiz.jsonl").display()
    );
    let path = tmp.path().join("plan.yaml");
    std::fs::write(&path, plan).expect("plan");
    let args = swarm_coordinator::cli::RunArgs {
        plan: Some(path.clone()),
        outputs_dir: Some(tmp.path().join("out")),
        quiet: true,
        resume: None,
        run_dir: None,
        allow_env: Vec::new(),
        metrics_listen: None,
        sandbox: Default::default(),
    };
    let run = swarm_coordinator::run::run_plan(&args, &CancellationToken::new())
        .await
        .expect("plan runs");
    let report = read_json(&run.join("eval/quiz/reports/sim-model/iquiz.json"));
    assert_eq!(report["metrics"][0]["num"], 6, "3 per subset, IQ and EQ");
    assert_eq!(read_json(&run.join("run.json"))["evals"][0], "quiz");
    // the workload's folder holds its task: `eval --rescore` of it needs no other flag
    let quiz = run.join("eval/quiz");
    eval(&["--rescore", quiz.to_str().expect("utf8")])
        .await
        .expect("a flagless rescore of a plan's eval workload");
    let rescored = read_json(&quiz.join("reports/sim-model/iquiz.json"));
    assert_eq!(rescored["metrics"][0]["num"], 6);
    assert_eq!(rescored["score"], report["score"]);
    let count = |run: &Path| -> usize {
        ["IQ", "EQ"]
            .iter()
            .map(|s| lines(&run.join(format!("eval/quiz/predictions/sim-model/iquiz_{s}.jsonl"))))
            .sum()
    };
    assert_eq!(count(&run), 6);
    // `run --resume`: the same folder, nothing generated again
    let args = swarm_coordinator::cli::RunArgs {
        resume: Some(run.clone()),
        ..args
    };
    let resumed = swarm_coordinator::run::run_plan(&args, &CancellationToken::new())
        .await
        .expect("resume runs");
    assert_eq!(resumed, run);
    assert_eq!(count(&run), 6, "resume generated nothing again");
    let bogus = swarm_coordinator::cli::RunArgs {
        resume: Some(tmp.path().join("nope")),
        ..args
    };
    let err = swarm_coordinator::run::run_plan(&bogus, &CancellationToken::new())
        .await
        .expect_err("not a run folder");
    assert!(err.to_string().contains("not a run folder"), "{err}");
}

/// EvalScope's own predictions (its viz example, two models) fed to `--rescore`: our scores and
/// report averages equal EvalScope's reports (every metric of ifeval's four; per-sample ifeval
/// scores are compared in swarm-common's `eval_parity`).
#[tokio::test]
async fn rescoring_evalscope_predictions_reproduces_its_reports() {
    for model in ["qwen-plus", "qwen3-max"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let viz = fixture(&format!("evalscope_viz/{model}"));
        // EvalScope's layout: predictions/<model>/<bench>_<subset>.jsonl
        let preds = tmp.path().join("predictions").join(model);
        std::fs::create_dir_all(&preds).expect("mkdir");
        for f in std::fs::read_dir(viz.join("predictions")).expect("viz predictions") {
            let f = f.expect("entry").path();
            std::fs::copy(&f, preds.join(f.file_name().expect("name"))).expect("copy");
        }
        let dargs = serde_json::json!({
            "gsm8k": {"local_path": fixture("gsm8k/test.jsonl"), "limit": 10},
            "iquiz": {"local_path": fixture("iquiz/iquiz.jsonl"), "limit": 10},
            "ifeval": {"local_path": fixture("ifeval/input_data.jsonl"), "limit": 10},
        })
        .to_string();
        let run = tmp.path().to_str().expect("utf8").to_string();
        eval(&[
            "--model",
            model,
            "--datasets",
            "gsm8k",
            "iquiz",
            "ifeval",
            "--dataset-args",
            &dargs,
            "--rescore",
            &run,
        ])
        .await
        .expect("rescore runs");
        for bench in ["gsm8k", "iquiz", "ifeval"] {
            let ours = read_json(&tmp.path().join(format!("reports/{model}/{bench}.json")));
            let theirs = read_json(&viz.join(format!("reports/{bench}.json")));
            assert_eq!(
                ours["score"], theirs["score"],
                "{model} {bench}: ours {ours} theirs {theirs}"
            );
            assert_eq!(
                ours["metrics"][0]["num"], theirs["metrics"][0]["num"],
                "{model} {bench}"
            );
            // Every metric (ifeval has four) with the same name and number.
            let names = |r: &serde_json::Value| -> Vec<(String, String)> {
                r["metrics"]
                    .as_array()
                    .expect("metrics")
                    .iter()
                    .map(|m| (m["name"].to_string(), m["score"].to_string()))
                    .collect()
            };
            assert_eq!(names(&ours), names(&theirs), "{model} {bench}");
        }

        // the same folder with EvalScope's task config: `--rescore` alone (and where the data
        // lives) is enough, and reports count the samples that have a prediction
        std::fs::create_dir_all(tmp.path().join("configs")).expect("configs");
        std::fs::write(
            tmp.path().join("configs/task_config.yaml"),
            format!(
                "model: {model}\ndatasets:\n- gsm8k\n- iquiz\n- ifeval\nlimit: 10\nrepeats: 1\neval_batch_size: 10\nanalysis_report: false\n"
            ),
        )
        .expect("task config");
        for bench in ["gsm8k", "iquiz", "ifeval"] {
            std::fs::remove_file(tmp.path().join(format!("reports/{model}/{bench}.json")))
                .expect("remove the first rescore's report");
        }
        eval(&[
            "--rescore",
            &run,
            "--data-dir",
            fixture("").to_str().expect("utf8"),
        ])
        .await
        .expect("a flagless rescore runs");
        for bench in ["gsm8k", "iquiz", "ifeval"] {
            let ours = read_json(&tmp.path().join(format!("reports/{model}/{bench}.json")));
            let theirs = read_json(&viz.join(format!("reports/{bench}.json")));
            assert_eq!(ours["score"], theirs["score"], "{model} {bench}");
            assert_eq!(
                ours["metrics"][0]["num"], theirs["metrics"][0]["num"],
                "{model} {bench}"
            );
        }
    }
}

/// `--eval-batch-size` is the bound on requests in flight at the server across all agents, as
/// in EvalScope: measured from the simulator's own log of when each request arrived and ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_size_bounds_requests_in_flight() {
    let mut cfg = llm_sim::SimConfig::instant();
    cfg.record_truth = true;
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(40.0);
    cfg.latency.itl_ms = llm_sim::Dist::fixed(2.0);
    let sim = start_sim(cfg).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/v1/chat/completions", sim.url());
    let dargs =
        serde_json::json!({"gsm8k": {"local_path": fixture("gsm8k/test.jsonl")}}).to_string();
    eval(&[
        "--model",
        "sim-model",
        "--api-url",
        &url,
        "--datasets",
        "gsm8k",
        "--dataset-args",
        &dargs,
        "--limit",
        "20",
        "--eval-batch-size",
        "4",
        "--agents",
        "2",
        "--no-test-connection",
        "--generation-config",
        r#"{"max_tokens": 8}"#,
        "--outputs-dir",
        tmp.path().join("out").to_str().expect("utf8"),
    ])
    .await
    .expect("eval runs");
    // every request's [arrival, last chunk] at the server; the most that overlap
    let mut edges: Vec<(std::time::Instant, i32)> = Vec::new();
    for id in sim.truth.ids() {
        let t = sim.truth.get(&id).expect("entry");
        let end = t.chunk_sent.last().copied().unwrap_or(t.received);
        edges.push((t.received, 1));
        edges.push((end, -1));
    }
    assert_eq!(edges.len(), 40, "20 requests");
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    assert!(
        most <= 4,
        "{most} requests in flight with --eval-batch-size 4"
    );
    assert!(most >= 3, "the batch size is used: {most} in flight");
    sim.shutdown().await;
}
