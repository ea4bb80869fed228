//! End to end: LLM-as-judge against llm-sim in answer-key mode, which is also the judge (its
//! judge role answers a judge prompt with the verdict true under the key). Some questions'
//! right answers are texts the rule cannot read (it scores them 0), so every strategy has an
//! exact expected score: `rule` counts what the rule reads, `llm` and `llm_recall` every right
//! answer; `llm_recall` asks the judge only about rule misses; a judge that always fails leaves
//! the rule scores, marked degraded, every failed attempt counted. Review lines carry the
//! judge's prompt and reply; the judge's key is in no file of a `coordinator eval` run.

use std::collections::BTreeMap;
use std::path::Path;

use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::{KeyEntry, build, prompt_sha256};
use swarm_eval::judge::{JudgeModelArgs, JudgeStrategy};
use swarm_eval::{Sample, registry, task};
use swarm_tests::keyed_eval::{keyed_sim, load, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

const JUDGE_KEY: &str = "sk-judge-NEVER-WRITE-ME-31c7";

/// The benchmarks judged: the generic judge question (gsm8k) and AIME's equivalence question.
const BENCHES: [(&str, &str, usize); 2] = [
    ("gsm8k", "gsm8k/test.jsonl", 12),
    ("aime24", "aime24/test.jsonl", 5),
];

/// A right answer the rule cannot read: the wrong text with a mark (the key says it is right).
fn unreadable(wrong: &str) -> String {
    format!("{wrong}\n\n(the answer above is correct after all)")
}

struct Case {
    samples: BTreeMap<&'static str, Vec<Sample>>,
    /// Per sample id: (answered right, the rule reads it).
    truth: BTreeMap<String, (bool, bool)>,
}

/// The key: every third question's right answer is one the rule scores 0.
fn key_entries() -> (
    Vec<KeyEntry>,
    Case,
    BTreeMap<String, swarm_eval::DatasetArgs>,
) {
    let (mut entries, mut samples, mut dargs) = (Vec::new(), BTreeMap::new(), BTreeMap::new());
    for (name, path, limit) in BENCHES {
        let bench = registry::benchmark(name).expect("known");
        let (args, s) = load(name, fixture(path), limit);
        let mut built = build(&s, bench.as_ref(), false).expect("key");
        for (i, e) in built.iter_mut().enumerate().filter(|(i, _)| i % 3 == 0) {
            e.correct = unreadable(&e.wrong);
            let sample = &s[i];
            assert_eq!(sample.id, e.sample_id);
            let filters = task::filters(name, &args).expect("filters");
            let (_, score) = task::score(bench.as_ref(), &filters, sample, &e.correct);
            assert_eq!(
                score.values[&score.main], 0.0,
                "{name}: the rule must miss it"
            );
        }
        entries.extend(built);
        samples.insert(name, s);
        dargs.insert(name.to_string(), args);
    }
    let case = Case {
        samples,
        truth: BTreeMap::new(),
    };
    (entries, case, dargs)
}

fn judge_args(url: &str) -> JudgeModelArgs {
    JudgeModelArgs::from_json(
        &serde_json::json!({"model_id": "sim-model", "api_url": url, "api_key": JUDGE_KEY,
            "generation_config": {"temperature": 0.0, "max_tokens": 64}})
        .to_string(),
    )
    .expect("judge args")
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The review lines of `bench` under `root`, by sample index.
fn reviews(root: &Path, bench: &str) -> Vec<serde_json::Value> {
    let dir = root.join("reviews/sim-model");
    let mut out = Vec::new();
    for f in std::fs::read_dir(&dir).expect("reviews") {
        let f = f.expect("entry").path();
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !name.starts_with(&format!("{bench}_")) {
            continue;
        }
        for line in std::fs::read_to_string(&f).expect("read").lines() {
            out.push(serde_json::from_str(line).expect("json"));
        }
    }
    out
}

fn sample_id(review: &serde_json::Value, samples: &[Sample]) -> String {
    let index = review["index"].to_string();
    let subset = &samples[0].subset;
    format!("{subset}_{}", index.trim_matches('"'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judged_scores_are_exact_under_rule_llm_and_llm_recall() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (entries, mut case, dargs) = key_entries();
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 7, 0.7, (2.0, 1.0));
    for s in case.samples.values().flatten() {
        let sha = prompt_sha256(s).expect("user message");
        let right = key.answers_correctly(&sha) == Some(true);
        let entry = entries
            .iter()
            .find(|e| e.sample_id == s.id && e.prompt_sha256 == sha);
        let unreadable = entry.is_some_and(|e| e.correct.ends_with("after all)"));
        case.truth.insert(
            format!("{}/{}", s.benchmark, s.id),
            (right, right && !unreadable),
        );
    }
    let sim = start_sim(cfg).await;
    // a judge that always fails (HTTP 500)
    let mut broken = llm_sim::SimConfig::instant();
    broken.faults.rate_500 = 1.0;
    let broken = start_sim(broken).await;

    let cancel = CancellationToken::new();
    let mut ccfg = ClusterConfig::local("judge", 2);
    ccfg.heartbeat_ms = 100;
    let (mut cluster, agents) = local_cluster(ccfg, &cancel).await;
    let runs = [
        ("rule", JudgeStrategy::Rule, &sim),
        ("llm", JudgeStrategy::Llm, &sim),
        ("llm_recall", JudgeStrategy::LlmRecall, &sim),
        ("llm_broken", JudgeStrategy::Llm, &broken),
    ];
    for (label, strategy, judge) in runs {
        let mut job = sim_job(label, &sim, dargs.clone(), false, 6);
        let args = judge_args(&format!("{}/v1", judge.url()));
        job.judge_strategy = strategy;
        job.judge = Some(Box::new(
            args.spec(strategy, (5.0, 10.0, 30.0)).expect("spec"),
        ));
        job.judge_model_args = Some(Box::new(args));
        let root = tmp.path().join(label);
        run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
            .await
            .unwrap_or_else(|e| panic!("{label}: {e:#}"));

        for (bench, samples) in &case.samples {
            let truth = |id: &str| case.truth[&format!("{bench}/{id}")];
            let n = samples.len() as f64;
            let read = samples.iter().filter(|s| truth(&s.id).1).count() as f64;
            let right = samples.iter().filter(|s| truth(&s.id).0).count() as f64;
            assert!(
                right > read,
                "{bench}: some right answers must be unreadable"
            );
            let expected = match strategy {
                JudgeStrategy::Llm if label == "llm" => round4(right / n),
                JudgeStrategy::LlmRecall => round4(right / n),
                _ => round4(read / n),
            };
            let report = read_json(&root.join(format!("reports/sim-model/{bench}.json")));
            assert_eq!(
                report["score"].as_f64(),
                Some(expected),
                "{label} {bench}: {report}"
            );

            let lines = reviews(&root, bench);
            assert_eq!(lines.len(), samples.len(), "{label} {bench}");
            for r in &lines {
                let id = sample_id(r, samples);
                let (is_right, rule_reads) = truth(&id);
                let score = &r["sample_score"]["score"];
                let attempts = score["metadata"]["judge_attempts"].as_array();
                let asked = match label {
                    "rule" => false,
                    "llm_recall" => !rule_reads,
                    _ => true,
                };
                assert_eq!(attempts.is_some(), asked, "{label} {bench} {id}: {score}");
                let Some(attempts) = attempts else { continue };
                let prompt = attempts[0]["messages"][0]["content"]
                    .as_str()
                    .unwrap_or_default();
                let marker = if *bench == "aime24" {
                    "    Expression 1: "
                } else {
                    "[Predicted Answer]\n"
                };
                assert!(prompt.contains(marker), "{label} {bench} {id}: {prompt}");
                assert!(
                    prompt.contains("Reply with a single JSON object"),
                    "{prompt}"
                );
                if label == "llm_broken" {
                    assert_eq!(attempts.len(), 3, "{id}: every try kept");
                    assert!(attempts.iter().all(|a| a["status"] == "transport_error"));
                    assert_eq!(score["status"], "degraded", "{id}");
                    assert_eq!(score["metadata"]["judge_unavailable"], "excluded");
                    assert_eq!(score["judge_summary"]["failures"]["transport_error"], 3);
                } else {
                    assert_eq!(attempts.len(), 1, "{id}");
                    let raw = attempts[0]["raw_response"].as_str().unwrap_or_default();
                    let said_right = raw.contains("\"A\"") || raw.contains("\"Yes\"");
                    assert_eq!(said_right, is_right, "{label} {bench} {id}: {raw}");
                    assert_eq!(score["status"], "success", "{id}");
                    assert_eq!(score["metadata"]["source"], "llm_judge");
                }
            }
            if label == "llm_broken" {
                let summary = &report["judge_summary"];
                assert_eq!(summary["status"], "degraded", "{summary}");
                assert_eq!(summary["total"].as_u64(), Some(samples.len() as u64));
                assert_eq!(
                    summary["failures"]["transport_error"].as_u64(),
                    Some(3 * samples.len() as u64)
                );
                assert_eq!(summary["valid_observations"].as_u64(), Some(0));
            }
        }
    }
    cluster.shutdown().await;
    sim.shutdown().await;
    broken.shutdown().await;
}

/// `coordinator eval --judge-strategy llm --judge-model-args '{... "api_key": K}'`: K is in no
/// file of the run, nor in its output; `--rescore` keeps the judgements (same score), and with
/// `--judge-strategy rule` scores by rule again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judge_key_is_in_no_run_file_and_rescore_keeps_judgements() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (entries, case, _) = key_entries();
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 7, 0.7, (1.0, 0.5));
    let sim = start_sim(cfg).await;
    let samples = &case.samples["gsm8k"];
    let right = samples
        .iter()
        .filter(|s| key.answers_correctly(&prompt_sha256(s).expect("sha")) == Some(true))
        .count();
    let unreadable = samples
        .iter()
        .filter(|s| {
            let sha = prompt_sha256(s).expect("sha");
            key.answers_correctly(&sha) == Some(true)
                && entries
                    .iter()
                    .any(|e| e.prompt_sha256 == sha && e.correct.ends_with("after all)"))
        })
        .count();
    let n = samples.len() as f64;
    let dargs = serde_json::json!({"gsm8k": {"local_path": fixture("gsm8k/test.jsonl")}});
    let judge = serde_json::json!({"model_id": "sim-model", "api_url": format!("{}/v1", sim.url()),
        "api_key": JUDGE_KEY});
    let coordinator = |args: &[&str]| {
        let mut cmd = std::process::Command::new(swarm_tests::workspace_bin("coordinator"));
        cmd.current_dir(tmp.path())
            .args(args)
            .stdin(std::process::Stdio::null());
        let o = tokio::task::block_in_place(|| cmd.output()).expect("coordinator runs");
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    };
    let url = format!("{}/v1/chat/completions", sim.url());
    let (dargs, judge) = (dargs.to_string(), judge.to_string());
    let first = coordinator(&[
        "eval",
        "--model",
        "sim-model",
        "--api-url",
        &url,
        "--datasets",
        "gsm8k",
        "--dataset-args",
        &dargs,
        "--limit",
        "12",
        "--judge-strategy",
        "llm",
        "--judge-model-args",
        &judge,
        "--outputs-dir",
        "out",
        "--name",
        "judged",
    ]);
    let run = std::fs::read_dir(tmp.path().join("out"))
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let report = |run: &Path| {
        let eval = run.join("eval");
        let workload = std::fs::read_dir(&eval)
            .expect("eval folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.is_dir())
            .expect("a workload");
        read_json(&workload.join("reports/sim-model/gsm8k.json"))
    };
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4(right as f64 / n))
    );
    let saved = std::fs::read_to_string(
        walk(&run)
            .into_iter()
            .find(|p| p.ends_with("task_config.json"))
            .expect("task_config.json"),
    )
    .expect("read");
    assert!(saved.contains("\"judge_strategy\": \"llm\""), "{saved}");
    assert!(saved.contains("\"model_id\": \"sim-model\""), "{saved}");

    // the judgements are kept: the same score with no judge to ask
    sim.shutdown().await;
    let run_arg = run.display().to_string();
    let kept = coordinator(&["eval", "--rescore", &run_arg]);
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4(right as f64 / n))
    );
    let rule = coordinator(&["eval", "--rescore", &run_arg, "--judge-strategy", "rule"]);
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4((right - unreadable) as f64 / n))
    );

    // with --rejudge a rescore asks the judge again (as it asks about any sample lacking a
    // verdict its strategy needs); the sim restarted on another port
    let (cfg, _) = keyed_sim(tmp.path(), &entries, 7, 0.7, (1.0, 0.5));
    let sim = start_sim(cfg).await;
    let judge = serde_json::json!({"model_id": "sim-model", "api_url": format!("{}/v1", sim.url()),
        "api_key": JUDGE_KEY})
    .to_string();
    let recall = coordinator(&[
        "eval",
        "--rescore",
        &run_arg,
        "--judge-strategy",
        "llm_recall",
        "--judge-model-args",
        &judge,
    ]);
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4(right as f64 / n))
    );
    // the run's own verdicts (kept in its predictions) serve llm_recall: no judge is asked
    let all = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let misses = samples.len() - (right - unreadable);
    assert!(
        !all(&recall).contains("asking the judge"),
        "{}",
        all(&recall)
    );
    assert!(
        all(&recall).contains(&format!(
            "benchmark gsm8k: the judge scored {misses} samples"
        )),
        "{}",
        all(&recall)
    );
    // the review lines, sorted: each judge attempt's latency tells one judging from another
    let eval_root = std::fs::read_dir(run.join("eval"))
        .expect("eval folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_dir())
        .expect("a workload");
    let lines = || {
        let mut v: Vec<String> = reviews(&eval_root, "gsm8k")
            .iter()
            .map(|r| r.to_string())
            .collect();
        v.sort();
        v
    };
    let before = lines();
    let again = coordinator(&[
        "eval",
        "--rescore",
        &run_arg,
        "--judge-strategy",
        "llm",
        "--judge-model-args",
        &judge,
        "--rejudge",
    ]);
    let k = samples.len();
    assert!(
        all(&again).contains(&format!("asking the judge sim-model about {k} predictions")),
        "{}",
        all(&again)
    );
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4(right as f64 / n))
    );
    let rejudged = lines();
    assert_ne!(rejudged, before, "the rejudge's attempts are new");
    assert!(
        rejudged.iter().all(|l| l.contains("\"latency\"")),
        "{rejudged:?}"
    );
    sim.shutdown().await;
    // the rejudge's verdicts are now the predictions' own: a later rescore with no judge to ask
    // keeps them, not the ones the run first stored
    let later = coordinator(&["eval", "--rescore", &run_arg]);
    assert_eq!(lines(), rejudged);
    assert_eq!(
        report(&run)["score"].as_f64(),
        Some(round4(right as f64 / n))
    );

    for path in walk(tmp.path()) {
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes
                .windows(JUDGE_KEY.len())
                .any(|w| w == JUDGE_KEY.as_bytes()),
            "{} holds the judge's key",
            path.display()
        );
    }
    for o in [&first, &kept, &rule, &recall, &again, &later] {
        for text in [&o.stdout, &o.stderr] {
            assert!(!String::from_utf8_lossy(text).contains(JUDGE_KEY));
        }
    }
    assert!(
        String::from_utf8_lossy(&first.stdout)
            .contains("benchmark gsm8k: the judge scored 12 samples"),
        "{}",
        String::from_utf8_lossy(&first.stdout)
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A plan's eval workload takes EvalScope's `judge_strategy` and `judge_model_args`, the key
/// through `${VAR}`; the job carries it to agents as a secret and the plan written back holds
/// no key. Bad judge arguments name their key.
#[test]
fn a_plans_eval_workload_takes_the_judge_and_never_writes_its_key() {
    use swarm_coordinator::plan::build::{Job, jobs};
    let plan = |judge: &str| {
        format!(
            "version: 1\nname: judged\ntargets:\n  - name: t\n    url: http://127.0.0.1:9/v1/chat/completions\n    model: m\nworkloads:\n  - name: w\n    eval:\n      target: t\n      datasets: [gsm8k]\n      judge_strategy: llm_recall\n      judge_model_args: {judge}\n"
        )
    };
    let vars: std::collections::HashMap<String, String> =
        [("JUDGE_KEY".to_string(), JUDGE_KEY.to_string())].into();
    let text = plan("{model_id: j, api_url: 'http://127.0.0.1:9/v1', api_key: '${JUDGE_KEY}'}");
    let p = swarm_coordinator::plan::parse_plan(&text, Path::new("plan.yaml"), &vars)
        .expect("plan parses");
    let tmp = tempfile::tempdir().expect("tempdir");
    let built = jobs(&p, tmp.path(), &BTreeMap::new(), tmp.path()).expect("jobs");
    let Some(Job::Eval(job)) = built.first() else {
        panic!("an eval job")
    };
    let judge = job.judge.as_deref().expect("a judge");
    assert_eq!(judge.strategy, JudgeStrategy::LlmRecall);
    assert_eq!(
        judge.target.api_key.as_ref().map(|k| k.0.as_str()),
        Some(JUDGE_KEY)
    );
    let written = serde_norway::to_string(&p).expect("yaml");
    assert!(
        written.contains("judge_model_args") && !written.contains(JUDGE_KEY),
        "{written}"
    );

    let bad = plan("{model_id: j, api_url: 'http://127.0.0.1:9/v1', temperature: 0}");
    let err = swarm_coordinator::plan::parse_plan(&bad, Path::new("plan.yaml"), &vars)
        .expect_err("unknown key")
        .to_string();
    assert!(err.contains("temperature"), "{err}");
    let no_url = plan("{model_id: j}");
    let p = swarm_coordinator::plan::parse_plan(&no_url, Path::new("plan.yaml"), &vars)
        .expect("parses");
    let err = format!(
        "{:#}",
        jobs(&p, tmp.path(), &BTreeMap::new(), tmp.path()).expect_err("refused")
    );
    assert!(err.contains("judge_model_args.api_url"), "{err}");
}
