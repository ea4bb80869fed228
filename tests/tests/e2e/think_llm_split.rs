//! End to end: think-eval's `llm` split (EvalScope's default) on llm-sim's simulated reasoning.
//! A loopback judge reformats each flattened reasoning into one sentence per paragraph (after
//! failing the first request for each, so every sample needs its one retry) and locates the
//! first paragraph saying "So the result is": every sample's steps, first-correct step and
//! token counts, and every level mean, are the ones that reformatting gives. Without retries,
//! or without a judge, the run fails with an error naming the sample or the missing flags.

use std::collections::BTreeMap;

use swarm_common::tokenize::load_tokenizer;
use swarm_coordinator::think::run::think_eval;
use swarm_eval::think::SplitStrategy;
use swarm_eval::think::reformat::flatten_lines;
use swarm_tests::schemas::read_json;

use super::think_eval::{TOKENIZER, args, sentence_paragraphs, simulated_run, start_judge};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_llm_split_uses_the_judges_paragraphs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (run_dir, truth) = simulated_run(tmp.path()).await;
    let tok = load_tokenizer(TOKENIZER).expect("tokenizer");
    let (url, failed, judge) = start_judge().await;

    let out = tmp.path().join("llm");
    let mut a = args(vec![run_dir.clone()], &out);
    a.split = SplitStrategy::Llm;
    a.judge_url = Some(url);
    a.judge_model = Some("judge".into());
    a.judge_retries = 1;
    let outcomes = think_eval(&a).await.expect("llm split runs");
    assert_eq!(
        failed.load(std::sync::atomic::Ordering::SeqCst),
        truth.len()
    );
    let o = &outcomes[0];
    assert_eq!(o.samples.len(), truth.len());
    let mut sums: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    for m in &o.samples {
        let (right, paragraphs) = &truth[&(m.level.clone(), m.index.clone())];
        let think = paragraphs.join("\n\n");
        let reformatted = sentence_paragraphs(&flatten_lines(&think));
        let steps: Vec<&str> = reformatted.split("\n\n").collect();
        // three sentences in each of four paragraphs (the last two a line shorter)
        assert_eq!(m.steps, steps.len(), "{m:?}");
        assert!(m.steps > paragraphs.len(), "{m:?}");
        let idx = steps
            .iter()
            .position(|s| s.contains("So the result is"))
            .map_or(-1, |i| i as i64);
        assert_eq!(m.first_correct_step, idx, "{m:?}");
        assert_eq!(idx >= 0, *right, "{m:?}");
        let first = match usize::try_from(idx) {
            Ok(i) => steps[..i].join("\n\n"),
            Err(_) => String::new(),
        };
        assert_eq!(m.metrics.reasoning_tokens, tok.count(&think), "{m:?}");
        assert_eq!(m.metrics.first_correct_tokens, tok.count(&first), "{m:?}");
        assert_eq!(m.metrics.thought_num, 3);
        if *right {
            // more than the separator split's paragraph 1: the judge's steps end mid-paragraph 2
            assert!(m.metrics.first_correct_tokens > tok.count(&paragraphs[0]));
            assert_eq!(m.metrics.accuracy, 1.0);
        } else {
            assert_eq!(m.metrics.accuracy, 0.0);
        }
        let e = sums.entry(m.level.clone()).or_default();
        e.0 += m.metrics.first_correct_tokens as f64;
        e.1 += m.metrics.accuracy;
        e.2 += 1;
    }
    for (level, (fc, acc, n)) in &sums {
        assert_eq!(
            o.results.get("first_correct_tokens", level),
            Some(fc / *n as f64)
        );
        assert_eq!(o.results.get("accuracy", level), Some(acc / *n as f64));
    }
    let results = read_json(&out.join("think_eval_results.json"));
    assert_eq!(results["split"], "llm");
    let log = std::fs::read_to_string(out.join("reformat.jsonl")).expect("reformat log");
    let rows: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), truth.len());
    for r in &rows {
        assert_eq!(r["model"], "sim-model");
        assert!(r["error"].is_null(), "{r}");
        let prompt = r["prompt"].as_str().expect("prompt");
        let solution = prompt.rsplit("[Solution]\n\n").next().expect("solution");
        assert_eq!(
            r["response"].as_str(),
            Some(sentence_paragraphs(solution.trim_end_matches('\n')).as_str())
        );
    }

    judge.abort();

    // no retries: a fresh judge's first 500 fails the run, naming the sample
    let (url, _, judge) = start_judge().await;
    let mut once = args(vec![run_dir.clone()], &tmp.path().join("once"));
    once.split = SplitStrategy::Llm;
    once.judge_url = Some(url);
    once.judge_model = Some("judge".into());
    let err = format!("{:#}", think_eval(&once).await.expect_err("no retry left"));
    judge.abort();
    assert!(
        err.starts_with("--split llm: cannot reformat the reasoning of sim-model, Level ")
            && err.contains("no answer after 1 try"),
        "{err}"
    );
    let failed_log = std::fs::read_to_string(tmp.path().join("once/reformat.jsonl")).expect("log");
    assert!(failed_log.lines().count() >= 1);

    // no judge at all
    let mut bare = args(vec![run_dir], &tmp.path().join("bare"));
    bare.split = SplitStrategy::Llm;
    let err = think_eval(&bare)
        .await
        .expect_err("needs a judge")
        .to_string();
    assert_eq!(
        err,
        "--split llm needs a judge to reformat the reasoning: give --judge-url and --judge-model"
    );
}
