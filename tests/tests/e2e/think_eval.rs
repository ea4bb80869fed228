//! End to end: a MATH-500 eval against llm-sim in answer-key mode with sub-thought reasoning
//! (the correct answer first in paragraph 2 of 4), then `think-eval` of the run folder with a
//! real tokenizer: judge-free, and with a judge (a tiny deterministic judge on loopback). Every
//! sample's T, T̂, thought count and first-correct step, and every level mean, are the true ones.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use llm_sim::{ReasoningMode, ThoughtsConfig, reasoning_paragraphs};
use swarm_common::tokenize::load_tokenizer;
use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_coordinator::think::args::ThinkEvalArgs;
use swarm_coordinator::think::run::think_eval;
use swarm_eval::answer_key::{KeyEntry, build, prompt_sha256};
use swarm_eval::registry;
use swarm_eval::think::SplitStrategy;
use swarm_tests::keyed_eval::{keyed_sim, load, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture, start_sim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// The tokenizer every think-eval test counts with.
/// SmolLM2's tokenizer, copied into the repository (see its NOTICE.md).
pub const TOKENIZER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../common/tests/fixtures/tokenizers/smollm2-135m"
);

fn thoughts() -> ThoughtsConfig {
    ThoughtsConfig {
        paragraphs: 4,
        first_correct: 2,
        words: 6,
    }
}

/// The test judge's reformatting of a solution: one sentence per paragraph.
pub fn sentence_paragraphs(solution: &str) -> String {
    solution.replace(". ", ".\n\n")
}

/// A loopback judge. For EvalScope's critique prompt it answers the first paragraph that says
/// "So the result is" (-1 if none), in `\boxed{}`; for EvalScope's reformat prompt it answers
/// [`sentence_paragraphs`] of the solution, after failing the first request for each solution
/// with a 500 (counted in the returned counter).
pub async fn start_judge() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/v1", listener.local_addr().expect("addr"));
    let failed = Arc::new(AtomicUsize::new(0));
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    let counter = Arc::clone(&failed);
    let task = tokio::spawn(async move {
        for _ in 0..10_000 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (failed, seen) = (Arc::clone(&failed), Arc::clone(&seen));
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let body = loop {
                    let Ok(n) = sock.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse().ok())?
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break buf[end + 4..end + 4 + len].to_vec();
                        }
                    }
                };
                let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let prompt = req["messages"][0]["content"].as_str().unwrap_or_default();
                let reply = |status: &str, answer: String| {
                    format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                        answer.len()
                    )
                };
                let chat = |content: String| {
                    serde_json::json!({
                        "id": "judge-1", "object": "chat.completion", "created": 0, "model": "judge",
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                            "content": content}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
                    })
                    .to_string()
                };
                // a reformat request carries no correct answer; a critique request does
                if !prompt.contains("[Correct Answer]") {
                    let solution = prompt
                        .rsplit("[Solution]\n\n")
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('\n');
                    let first = seen
                        .lock()
                        .map(|mut s| s.insert(solution.to_owned()))
                        .unwrap_or(false);
                    let response = if first {
                        failed.fetch_add(1, Ordering::SeqCst);
                        reply("500 Internal Server Error", "{\"error\": \"busy\"}".into())
                    } else {
                        reply("200 OK", chat(sentence_paragraphs(solution)))
                    };
                    let _ = sock.write_all(response.as_bytes()).await;
                    let _ = sock.shutdown().await;
                    return;
                }
                let mut index = -1i64;
                for i in 0..64 {
                    let open = format!("<paragraph_{i}>\n");
                    let Some(start) = prompt.find(&open) else {
                        break;
                    };
                    let end = prompt
                        .find(&format!("</paragraph_{i}>"))
                        .unwrap_or(prompt.len());
                    if prompt[start..end].contains("So the result is") {
                        index = i;
                        break;
                    }
                }
                let response = reply(
                    "200 OK",
                    chat(format!("The earliest one is \\boxed{{{index}}}.")),
                );
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (url, counter, task)
}

/// Judge-free think-eval flags over `runs` (MATH-500), writing to `out`.
pub fn args(runs: Vec<PathBuf>, out: &Path) -> ThinkEvalArgs {
    ThinkEvalArgs {
        runs,
        dataset: "math_500".into(),
        tokenizer_path: TOKENIZER.into(),
        judge_url: None,
        judge_model: None,
        judge_api_key: None,
        judge_concurrency: 4,
        judge_retries: 0,
        split: SplitStrategy::Separator,
        count: 50,
        max_tokens: 8000,
        include_correct_step: false,
        output: out.to_path_buf(),
    }
}

/// Each sample's truth: (level, index) → (answered correctly, reasoning paragraphs).
pub type Truth = HashMap<(String, String), (bool, Vec<String>)>;

/// A MATH-500 eval (3 samples) against llm-sim in answer-key mode with sub-thought reasoning,
/// run into `tmp/run`; returns the run folder and the truth from the simulator's generator.
pub async fn simulated_run(tmp: &Path) -> (PathBuf, Truth) {
    let bench = registry::benchmark("math_500").expect("known");
    let (dargs, samples) = load("math_500", eval_fixture("math_500/test.jsonl"), 3);
    let entries: Vec<KeyEntry> = build(&samples, bench.as_ref(), false).expect("key");
    let (mut cfg, key) = keyed_sim(tmp, &entries, 3, 0.5, (1.0, 0.0));
    cfg.reasoning.mode = ReasoningMode::Field;
    cfg.reasoning.thoughts = Some(thoughts());
    let sim = start_sim(cfg).await;
    let cancel = CancellationToken::new();
    let (mut cluster, agents) = local_cluster(ClusterConfig::local("think", 1), &cancel).await;
    let dataset_args = BTreeMap::from([("math_500".to_owned(), dargs)]);
    let job = sim_job("math", &sim, dataset_args, false, 4);
    let run_dir = tmp.join("run");
    run_job(
        Some(&mut cluster),
        &agents,
        &job,
        &run_dir.join("eval"),
        false,
        &cancel,
    )
    .await
    .expect("eval runs");
    cluster.shutdown().await;
    sim.shutdown().await;

    // the truth, from the simulator's generator
    let mut truth = Truth::new();
    for (s, e) in samples.iter().zip(&entries) {
        let right = key
            .answers_correctly(&prompt_sha256(s).expect("user"))
            .expect("keyed");
        let paragraphs = reasoning_paragraphs(&thoughts(), &e.correct, &e.wrong, right);
        let index = s.id.rsplit('_').next().expect("index").to_owned();
        truth.insert((s.subset.clone(), index), (right, paragraphs));
    }
    assert!(truth.values().any(|(r, _)| *r) && truth.values().any(|(r, _)| !*r));
    (run_dir, truth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_eval_recovers_the_simulated_reasoning_structure() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (run_dir, truth) = simulated_run(tmp.path()).await;
    let tok = load_tokenizer(TOKENIZER).expect("tokenizer");

    let out = tmp.path().join("think");
    let outcomes = think_eval(&args(vec![run_dir.clone()], &out))
        .await
        .expect("think-eval runs");
    assert_eq!(outcomes.len(), 1);
    let o = &outcomes[0];
    assert_eq!(o.label, "sim-model");
    assert_eq!(o.samples.len(), truth.len());
    let mut level_sums: BTreeMap<String, (f64, f64, f64, usize)> = BTreeMap::new();
    for m in &o.samples {
        let (right, paragraphs) = &truth[&(m.level.clone(), m.index.clone())];
        let t = tok.count(&paragraphs.join("\n\n"));
        assert_eq!(m.steps, 4);
        assert_eq!(m.metrics.reasoning_tokens, t, "{m:?}");
        assert_eq!(m.metrics.thought_num, 3, "{m:?}");
        if *right {
            // EvalScope counts the steps before the one holding the answer: paragraph 1
            assert_eq!(m.first_correct_step, 1, "{m:?}");
            assert_eq!(m.metrics.first_correct_tokens, tok.count(&paragraphs[0]));
            assert_eq!(m.metrics.accuracy, 1.0);
        } else {
            assert_eq!(m.first_correct_step, -1, "{m:?}");
            assert_eq!(m.metrics.first_correct_tokens, 0);
            assert_eq!(m.metrics.accuracy, 0.0);
        }
        assert_eq!(
            m.metrics.reflection_tokens,
            t - m.metrics.first_correct_tokens
        );
        let e = level_sums.entry(m.level.clone()).or_default();
        e.0 += m.metrics.reasoning_tokens as f64;
        e.1 += m.metrics.first_correct_tokens as f64;
        e.2 += m.metrics.accuracy;
        e.3 += 1;
    }
    let results = read_json(&out.join("think_eval_results.json"));
    assert_eq!(results["first_correct"]["mode"], "judge_free");
    assert_eq!(results["split"], "separator");
    let levels: Vec<&String> = results["models"]["sim-model"]["accuracy"]
        .as_object()
        .expect("levels")
        .keys()
        .collect();
    assert_eq!(
        levels,
        ["Level 1", "Level 2", "Level 3", "Level 4", "Level 5"]
    );
    for (level, (t, fc, acc, n)) in &level_sums {
        // JSON numbers parse back within an ulp
        let check = |metric: &str, expect: f64| {
            let got = results["models"]["sim-model"][metric][level]
                .as_f64()
                .unwrap_or(f64::NAN);
            assert!(
                (got - expect).abs() < 1e-9,
                "{level} {metric}: {got} vs {expect}"
            );
            assert_eq!(
                o.results.get(metric, level),
                Some(expect),
                "{level} {metric}"
            );
        };
        check("reasoning_tokens", t / *n as f64);
        check("first_correct_tokens", fc / *n as f64);
        check("accuracy", acc / *n as f64);
        check("thought_num", 3.0);
    }
    let per_model = read_json(&out.join("sim-model/think_eval_results.json"));
    assert_eq!(per_model, results["models"]["sim-model"]);
    let svg = std::fs::read_to_string(out.join("think_eval_metrics.svg")).expect("svg");
    for title in [
        "Reasoning Tokens",
        "First Correct Tokens",
        "Reflection Tokens",
        "Token Efficiency",
        "Thought Num",
        "Accuracy",
        "sim-model",
        "Level 5",
    ] {
        assert!(svg.contains(title), "{title} missing from the figure");
    }
    assert_eq!(svg.matches("<polyline").count(), 6);

    // the step holding the answer counted too
    let mut inclusive = args(vec![run_dir.clone()], &tmp.path().join("incl"));
    inclusive.include_correct_step = true;
    let o2 = think_eval(&inclusive).await.expect("runs");
    for m in &o2[0].samples {
        let (right, paragraphs) = &truth[&(m.level.clone(), m.index.clone())];
        let expect = if *right {
            tok.count(&paragraphs[..2].join("\n\n"))
        } else {
            0
        };
        assert_eq!(m.metrics.first_correct_tokens, expect, "{m:?}");
    }

    // a judge locating the same paragraphs gives the same numbers
    let (url, _, judge) = start_judge().await;
    let mut judged = args(vec![run_dir.clone()], &tmp.path().join("judged"));
    judged.judge_url = Some(url);
    judged.judge_model = Some("judge".into());
    let o3 = think_eval(&judged).await.expect("judged run");
    judge.abort();
    assert_eq!(o3[0].results, o.results);
    for (a, b) in o3[0].samples.iter().zip(&o.samples) {
        assert_eq!(
            (a.first_correct_step, a.judge_error.as_deref()),
            (b.first_correct_step, None)
        );
    }
    let judged_results = read_json(&tmp.path().join("judged/think_eval_results.json"));
    assert_eq!(
        judged_results["first_correct"],
        serde_json::json!({"mode": "judge", "model": "judge"})
    );
    let log = std::fs::read_to_string(tmp.path().join("judged/answer_index.jsonl")).expect("log");
    assert_eq!(log.lines().count(), truth.len());
    assert!(log.contains("<paragraph_3>"));
}
