//! End to end: needle_haystack judged as EvalScope judges it by default (`--judge-strategy auto`,
//! `ScoringPolicy.JUDGE_DEFAULT`), llm-sim in answer-key mode being both the model and the judge
//! (its judge role rates the key's right answer 10, its wrong one 0). Every second right answer
//! is a text the rule scores 0 but the key calls right, so the judged per-cell scores (`verdict /
//! 10`) differ from the rule's and are known exactly. Review lines carry the judge's rating
//! prompt and reply; a judge that always fails leaves the rule's scores marked `degraded`, each
//! failed try counted. `coordinator eval` without `--judge-model-args` is refused before any
//! request, naming the benchmark and the flag.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::{build, prompt_sha256};
use swarm_eval::judge::prompt::GENERAL_ORM_PROMPT;
use swarm_eval::judge::{JudgeModelArgs, JudgeStrategy};
use swarm_eval::{DatasetArgs, registry, task};
use swarm_tests::keyed_eval::{keyed_sim, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

/// A right answer the rule misses (EvalScope's `match_score` scores it 0: the article and the
/// opening words are missing), which the key calls right.
const LOOSE: &str = "Eat a sandwich and sit in Dolores Park on a sunny day.";

fn tokenizer() -> Option<std::path::PathBuf> {
    let dir = swarm_tests::shared_data().join("tokenizers/smollm2-135m");
    dir.join("tokenizer.json").is_file().then_some(dir)
}

fn dataset_args(tokenizer: &Path) -> DatasetArgs {
    DatasetArgs {
        local_path: Some(fixture("needle_haystack")),
        subset_list: vec!["english".into()],
        extra_params: json!({
            "context_lengths_min": 300,
            "context_lengths_max": 1200,
            "context_lengths_num_intervals": 3,
            "document_depth_percent_intervals": 4,
            "tokenizer_path": tokenizer.display().to_string(),
        })
        .as_object()
        .expect("object")
        .clone(),
        ..DatasetArgs::default()
    }
}

fn judge_args(url: &str) -> JudgeModelArgs {
    JudgeModelArgs::from_json(
        &json!({"model_id": "sim-model", "api_url": url,
            "generation_config": {"temperature": 0.0, "max_tokens": 64}})
        .to_string(),
    )
    .expect("judge args")
}

/// `(cell, subset) → score` of a report's per-cell metrics, each cell holding one sample.
fn cell_scores(report: &Value) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for m in &report["metrics"].as_array().expect("metrics")[1..] {
        for s in m["categories"][0]["subsets"].as_array().expect("subsets") {
            assert_eq!(s["num"], 1, "{m}");
            assert_eq!(s["name"], "english");
            out.insert(
                m["name"].as_str().expect("name").to_owned(),
                s["score"].as_f64().expect("score"),
            );
        }
    }
    out
}

fn cell_of(s: &swarm_eval::Sample) -> String {
    format!(
        "Context#{} Depth#{}",
        s.metadata["context_length"], s.metadata["depth_percent"]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needle_haystack_is_judged_by_default_with_exact_cells() {
    swarm_io::tls::install_crypto_provider();
    let Some(tok) = tokenizer() else {
        swarm_tests::skipped(
            "e2e::eval_needle_judge",
            "the SmolLM2 tokenizer is absent",
            false,
        );
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let args = dataset_args(&tok);
    let bench = registry::benchmark("needle_haystack").expect("registered");
    let samples = bench.load(&args).expect("samples");
    assert_eq!(samples.len(), 12, "3 lengths × 4 depths");
    let filters = task::filters("needle_haystack", &args).expect("filters");
    let mut entries = build(&samples, bench.as_ref(), false).expect("key");
    for (i, e) in entries.iter_mut().enumerate() {
        assert_eq!(e.sample_id, samples[i].id);
        if i % 2 == 0 {
            e.correct = LOOSE.to_owned();
        }
        let (_, rule) = task::score(bench.as_ref(), &filters, &samples[i], &e.wrong);
        assert_eq!(rule.values["acc"], 0.0, "the wrong answer scores 0");
    }
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 5, 0.6, (1.0, 0.5));
    // per cell: (the key answers right, the rule reads that answer)
    let mut truth = BTreeMap::new();
    for (s, e) in samples.iter().zip(&entries) {
        let right = key.answers_correctly(&prompt_sha256(s).expect("user message")) == Some(true);
        let (_, rule) = task::score(bench.as_ref(), &filters, s, &e.correct);
        truth.insert(cell_of(s), (right, right && rule.values["acc"] == 1.0));
    }
    assert!(
        truth.values().any(|(right, read)| *right && !read),
        "some right answers are unreadable to the rule: {truth:?}"
    );
    assert!(truth.values().any(|(_, read)| *read), "{truth:?}");
    assert!(truth.values().any(|(right, _)| !right), "{truth:?}");
    let sim = start_sim(cfg).await;
    let mut broken = llm_sim::SimConfig::instant();
    broken.faults.rate_500 = 1.0;
    let broken = start_sim(broken).await;

    let cancel = CancellationToken::new();
    let mut ccfg = ClusterConfig::local("needle-judge", 1);
    ccfg.heartbeat_ms = 100;
    let (mut cluster, agents) = local_cluster(ccfg, &cancel).await;
    for (label, judge) in [("auto", &sim), ("auto_broken", &broken)] {
        let mut job = sim_job(
            label,
            &sim,
            BTreeMap::from([("needle_haystack".to_owned(), args.clone())]),
            false,
            4,
        );
        let jargs = judge_args(&format!("{}/v1", judge.url()));
        job.judge_strategy = JudgeStrategy::Auto;
        job.judge = Some(Box::new(
            jargs
                .spec(JudgeStrategy::Auto, (5.0, 10.0, 30.0))
                .expect("spec"),
        ));
        job.judge_model_args = Some(Box::new(jargs));
        let root = tmp.path().join(label);
        run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e:#}"));

        let report = read_json(&root.join("reports/sim-model/needle_haystack.json"));
        let judged = label == "auto";
        // judged: verdict 10 → 1.0 for every right answer; the broken judge: the rule's scores
        let expected: BTreeMap<String, f64> = truth
            .iter()
            .map(|(cell, (right, read))| {
                let ok = if judged { *right } else { *read };
                (cell.clone(), if ok { 1.0 } else { 0.0 })
            })
            .collect();
        assert_eq!(cell_scores(&report), expected, "{label}");
        let total: f64 = expected.values().sum();
        let overall = (total / 12.0 * 1e4).round() / 1e4;
        assert_eq!(report["score"].as_f64(), Some(overall), "{label}");

        let dir = root.join("reviews/sim-model");
        let mut lines = Vec::new();
        for f in std::fs::read_dir(&dir).expect("reviews") {
            let text = std::fs::read_to_string(f.expect("entry").path()).expect("read");
            lines.extend(
                text.lines()
                    .map(|l| serde_json::from_str::<Value>(l).expect("json")),
            );
        }
        assert_eq!(lines.len(), 12, "{label}");
        for r in &lines {
            let score = &r["sample_score"]["score"];
            let attempts = score["metadata"]["judge_attempts"]
                .as_array()
                .unwrap_or_else(|| panic!("{label}: the judge was asked: {score}"));
            let messages = &attempts[0]["messages"];
            assert_eq!(messages[0]["role"], "system");
            assert_eq!(messages[0]["content"], GENERAL_ORM_PROMPT);
            let user = messages[1]["content"].as_str().expect("user");
            assert!(
                user.starts_with("\nQuestion: **System**: You are a helpful AI bot")
                    && user.contains("\n\nReference Answer: \nThe best thing to do")
                    && user.ends_with("- \"verdict\": a number >= 0.0 and <= 10.0"),
                "{user}"
            );
            let prediction = score["extracted_prediction"].as_str().expect("prediction");
            assert!(
                user.contains(&format!("\n\nModel Answer: {prediction}\n")),
                "{prediction:?} in {user}"
            );
            if judged {
                assert_eq!(attempts.len(), 1);
                assert_eq!(score["status"], "success", "{score}");
                assert_eq!(score["metadata"]["source"], "llm_judge");
                let raw = attempts[0]["raw_response"].as_str().expect("reply");
                let verdict: Value = serde_json::from_str(raw).expect("a JSON reply");
                let acc = score["value"]["acc"].as_f64().expect("acc");
                assert_eq!(Some(acc * 10.0), verdict["verdict"].as_f64(), "{raw}");
            } else {
                assert_eq!(attempts.len(), 3, "every try kept");
                assert!(attempts.iter().all(|a| a["status"] == "transport_error"));
                assert_eq!(score["status"], "degraded", "{score}");
                assert_eq!(score["metadata"]["judge_unavailable"], "excluded");
                assert_eq!(score["judge_summary"]["failures"]["transport_error"], 3);
            }
        }
        if !judged {
            let summary = &report["judge_summary"];
            assert_eq!(summary["status"], "degraded", "{summary}");
            assert_eq!(summary["valid_observations"].as_u64(), Some(0));
        }
    }
    cluster.shutdown().await;
    sim.shutdown().await;
    broken.shutdown().await;
}

/// `coordinator eval --datasets needle_haystack` with the default `--judge-strategy auto` and no
/// `--judge-model-args` is refused before any request, as EvalScope refuses it.
#[test]
fn auto_without_a_judge_is_refused_before_any_request() {
    let Some(tok) = tokenizer() else {
        swarm_tests::skipped(
            "e2e::eval_needle_judge",
            "the SmolLM2 tokenizer is absent",
            false,
        );
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let dargs = json!({"needle_haystack": {
        "local_path": fixture("needle_haystack"),
        "subset_list": ["english"],
        "extra_params": {"context_lengths_min": 300, "context_lengths_max": 600,
            "context_lengths_num_intervals": 1, "document_depth_percent_intervals": 1,
            "tokenizer_path": tok}}})
    .to_string();
    let run = |extra: &[&str]| {
        let mut cmd = std::process::Command::new(swarm_tests::workspace_bin("coordinator"));
        cmd.current_dir(tmp.path())
            .args([
                "eval",
                "--model",
                "m",
                // nothing listens here: a request would fail with a connection error
                "--api-url",
                "http://127.0.0.1:9/v1/chat/completions",
                "--datasets",
                "needle_haystack",
                "--dataset-args",
                &dargs,
                "--outputs-dir",
                "out",
            ])
            .args(extra)
            .stdin(std::process::Stdio::null());
        let o = cmd.output().expect("coordinator runs");
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (ok, out) = run(&[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("\"needle_haystack\"")
            && out.contains("judge_strategy=\"auto\"")
            && out.contains("--judge-model-args"),
        "{out}"
    );
    // refused before any request: no prediction was written
    let mut stack = vec![tmp.path().join("out")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p.to_string_lossy().into_owned();
            assert!(!name.contains("predictions"), "{name}: {out}");
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
}
