//! Synthetic run folders for the dashboard's tests and benchmark: eval runs with predictions,
//! reviews and real reports (one sample's answer is a `<script>`; correct samples reach their
//! answer in the second paragraph of their reasoning), and a perf run whose stage
//! files are written by the coordinator's own writer from synthetic request records.

use std::io::Write;
use std::path::{Path, PathBuf};

use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::metrics::{ErrorClass, RequestRecord, StageAggregate};
use swarm_common::schedule::LoadModel;
use swarm_eval::report::ScoredSample;
use swarm_eval::task::Prediction;
use swarm_eval::{ReportSpec, Score, build_report, registry};

/// The answer of sample 7 of every synthetic eval run: markup that must render as text.
pub const HOSTILE: &str =
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">";

/// Sample `i`'s benchmark and subset: even samples gsm8k/main, odd ones math_500 levels.
pub fn subset_of(i: usize) -> (&'static str, String) {
    if i.is_multiple_of(2) {
        ("gsm8k", "main".to_string())
    } else {
        ("math_500", format!("Level {}", 1 + (i / 2) % 5))
    }
}

/// Whether sample `i` is scored correct (every third).
pub fn correct(i: usize) -> bool {
    i.is_multiple_of(3)
}

/// Writes an eval run folder `<outputs>/<id>` for `model` with `n` samples; returns it.
pub fn eval_run(outputs: &Path, id: &str, model: &str, n: usize) -> std::io::Result<PathBuf> {
    eval_run_sized(outputs, id, model, n, 0)
}

/// [`eval_run`] with about `reasoning_bytes` of reasoning text per sample (for benchmarks).
pub fn eval_run_sized(
    outputs: &Path,
    id: &str,
    model: &str,
    n: usize,
    reasoning_bytes: usize,
) -> std::io::Result<PathBuf> {
    eval_run_scored(outputs, id, model, n, reasoning_bytes, correct)
}

/// [`eval_run_sized`] where sample `i` is correct when `correct(i)`.
pub fn eval_run_scored(
    outputs: &Path,
    id: &str,
    model: &str,
    n: usize,
    reasoning_bytes: usize,
    correct: fn(usize) -> bool,
) -> std::io::Result<PathBuf> {
    let filler = "Let me think about this step by step. ".repeat(reasoning_bytes / 38);
    let run = outputs.join(id);
    let root = run.join("eval");
    let mut files: std::collections::BTreeMap<(String, String), (Vec<u8>, Vec<u8>)> =
        Default::default();
    let mut scored: std::collections::BTreeMap<&str, Vec<ScoredSample>> = Default::default();
    for i in 0..n {
        let (bench, subset) = subset_of(i);
        let ok = correct(i);
        let gold = (2 * i).to_string();
        let answer = if i == 7 {
            HOSTILE.to_string()
        } else if ok {
            format!("The answer is {gold}")
        } else {
            format!("The answer is {}", 2 * i + 1)
        };
        let acc = if ok { 1.0 } else { 0.0 };
        let index = i.to_string();
        let p = Prediction {
            benchmark: bench.into(),
            subset: subset.clone(),
            sample_id: format!("{subset}_{index}"),
            repeat: 0,
            completion: answer.clone(),
            reasoning: if ok {
                // the answer reached in the second paragraph (think-eval finds it there)
                format!(
                    "thinking about item {i}.\n\nso the result is \\boxed{{{gold}}}.\n\nlet me double-check. {filler}"
                )
            } else {
                format!("thinking about item {i}. {filler}")
            },
            extracted: if ok {
                gold.clone()
            } else {
                (2 * i + 1).to_string()
            },
            score: Score {
                extracted: String::new(),
                values: [("acc".to_string(), acc)].into_iter().collect(),
                main: "acc".into(),
            },
            prompt_tokens: 20,
            completion_tokens: 8,
            reasoning_tokens: 0,
            latency_us: 1000,
            ttft_us: None,
            error: None,
            judge: None,
        };
        let messages = serde_json::json!([{"role": "user", "content": format!("Question {i}: what is {i} + {i}?")}]);
        let pred = serde_json::json!({
            "index": index, "model": model,
            "model_output": {"choices": [{"message": {"role": "assistant", "content": answer}}]},
            "messages": messages, "metadata": {"repeat": 0}, "swarm": p,
        });
        let review = serde_json::json!({
            "index": index, "target": gold, "messages": messages, "repeat": 0,
            "sample_score": {"score": {"value": {"acc": acc}, "extracted_prediction": p.extracted, "prediction": answer, "main_score_name": "acc"}},
        });
        let entry = files
            .entry((bench.to_string(), subset.clone()))
            .or_default();
        writeln!(entry.0, "{pred}")?;
        writeln!(entry.1, "{review}")?;
        scored.entry(bench).or_default().push(ScoredSample {
            subset,
            sample_id: format!("{i}"),
            values: [("acc".to_string(), acc)].into_iter().collect(),
        });
    }
    for ((bench, subset), (pred, review)) in files {
        for (kind, bytes) in [("predictions", pred), ("reviews", review)] {
            let dir = root.join(kind).join(model);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join(format!("{bench}_{subset}.jsonl")), bytes)?;
        }
    }
    let reports = root.join("reports").join(model);
    std::fs::create_dir_all(&reports)?;
    for (bench, samples) in scored {
        let b = registry::benchmark(bench).map_err(std::io::Error::other)?;
        let report = build_report(model, &ReportSpec::of(b.as_ref()), &samples);
        std::fs::write(
            reports.join(format!("{bench}.json")),
            serde_json::to_vec_pretty(&report)?,
        )?;
    }
    Ok(run)
}

/// Writes a perf run `<outputs>/<id>` with one workload `chat` (model `model`) of stages at
/// each concurrency in `levels`, `per_stage` requests each (every tenth fails with a 5xx);
/// latencies grow with concurrency. Returns the folder.
pub fn perf_run(
    outputs: &Path,
    id: &str,
    model: &str,
    levels: &[u32],
    per_stage: u64,
) -> anyhow::Result<PathBuf> {
    let run = outputs.join(id);
    let wdir = run.join("perf").join("chat");
    std::fs::create_dir_all(&wdir)?;
    let names: Vec<String> = levels.iter().map(|c| format!("parallel_{c}")).collect();
    let stages: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"name": n}))
        .collect();
    std::fs::write(
        wdir.join("benchmark_args.json"),
        serde_json::to_vec_pretty(&serde_json::json!({
            "name": "chat", "target": {"model": model}, "stages": stages,
        }))?,
    )?;
    for (c, name) in levels.iter().zip(&names) {
        let mut agg = StageAggregate::new(HistSettings::default())?;
        for id in 0..per_stage {
            let ttft = 10_000 * u64::from(*c) + id * 100;
            let fail = id % 10 == 9;
            let r = RequestRecord {
                id,
                sent_us: id * 10_000 / u64::from(*c),
                ttft_us: (!fail).then_some(ttft),
                latency_us: ttft + 50_000,
                chunk_us: if fail {
                    vec![]
                } else {
                    (0..8).map(|k| ttft + k * 5_000).collect()
                },
                prompt_tokens: 32,
                completion_tokens: if fail { 0 } else { 8 },
                status: if fail { 500 } else { 200 },
                error: fail.then_some(ErrorClass::Http5xx),
                ..Default::default()
            };
            agg.record(&r, 1_000_000);
        }
        swarm_coordinator::run_store::stage_files::write_stage(
            &wdir.join(name),
            name,
            &LoadModel::Closed { concurrency: *c },
            "count",
            &swarm_coordinator::perf::stage::StageStatus::Ok,
            &agg,
        )?;
    }
    use swarm_coordinator::run_store::record::{Recorder, RunKind};
    Recorder::start(&run, RunKind::Perf, "synthetic")?.finish(
        swarm_coordinator::outcome::Exit::Ok,
        Vec::new(),
        false,
    )?;
    Ok(run)
}
