//! Running think-eval: measure every counted sample of every model, average per level, write
//! the results and the figure, print a table per metric.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures::StreamExt;
use serde_json::{Map, Value, json};
use swarm_common::tokenize::{TokenCounter, load_tokenizer};
use swarm_eval::think::locate::judge_prompt;
use swarm_eval::think::{
    FirstCorrectMode, METRICS, SampleMetrics, SplitStrategy, ThinkResults, by_level, display,
    first_correct_step, first_correct_text, think_part, thought_num, title,
};
use tokio_util::sync::CancellationToken;

use super::args::ThinkEvalArgs;
use super::input::{ModelRun, ThinkSample, read_runs};
use super::judge::{Judge, RETRY_BACKOFF};
use super::steps::{ToSplit, split_all};
use crate::report::html::think::think_figure;
use crate::run_store::stage_files::{keep_only, write_json};

/// One measured sample, as `think_eval_samples.jsonl` records it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MeasuredSample {
    /// Level.
    pub level: String,
    /// Index within the level.
    pub index: String,
    /// Steps the reasoning was cut into.
    pub steps: usize,
    /// The first step holding the correct answer (-1: none).
    pub first_correct_step: i64,
    /// The metrics.
    #[serde(flatten)]
    pub metrics: SampleMetrics,
    /// Why the judge failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_error: Option<String>,
}

/// One model's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutcome {
    /// The name shown.
    pub label: String,
    /// Means per level.
    pub results: ThinkResults,
    /// Every measured sample.
    pub samples: Vec<MeasuredSample>,
}

/// The samples of a level that count: the first `count` whose output has at most `max_tokens`.
fn counted<'a>(
    samples: &'a [ThinkSample],
    tok: &dyn TokenCounter,
    count: usize,
    max_tokens: usize,
) -> Vec<&'a ThinkSample> {
    samples
        .iter()
        .filter(|s| tok.count(&s.reasoning) + tok.count(&s.content) <= max_tokens)
        .take(count)
        .collect()
}

/// What the judge was asked: the critique prompts (`answer_index.jsonl`) and, with the `llm`
/// split, the reformat prompts (`reformat.jsonl`).
#[derive(Debug, Default)]
pub struct JudgeLogs {
    /// Critique prompts, replies and indexes.
    pub critique: Vec<Value>,
    /// Reformat prompts and replies.
    pub reformat: Vec<Value>,
}

/// Measures one model run (fails only when the `llm` split cannot reformat a sample).
pub async fn measure(
    run: &ModelRun,
    args: &ThinkEvalArgs,
    tok: &dyn TokenCounter,
    judge: Option<&Judge>,
    logs: &mut JudgeLogs,
    cancel: &CancellationToken,
) -> anyhow::Result<ModelOutcome> {
    let mut levels = Vec::with_capacity(run.levels.len());
    let mut measured = Vec::new();
    for (level, samples) in &run.levels {
        let chosen = counted(samples, tok, args.count, args.max_tokens);
        let thinks: Vec<&str> = chosen
            .iter()
            .map(|s| think_part(&s.content, &s.reasoning))
            .collect();
        let items: Vec<ToSplit<'_>> = chosen
            .iter()
            .zip(&thinks)
            .map(|(s, think)| ToSplit {
                level,
                index: &s.index,
                problem: &s.problem,
                think,
            })
            .collect();
        let steps = split_all(
            &items,
            args.split,
            judge,
            args.judge_concurrency,
            &run.label,
            &mut logs.reformat,
            cancel,
        )
        .await?;
        let prepared: Vec<(&ThinkSample, &str, Vec<String>)> = chosen
            .iter()
            .zip(thinks)
            .zip(steps)
            .map(|((s, think), steps)| (*s, think, steps))
            .collect();
        let verdicts: Vec<(i64, Option<String>)> = match judge {
            None => prepared
                .iter()
                .map(|(s, _, steps)| (first_correct_step(steps, &s.gold), None))
                .collect(),
            Some(j) => {
                let prompts: Vec<String> = prepared
                    .iter()
                    .map(|(s, _, steps)| judge_prompt(&s.problem, &s.gold, steps))
                    .collect();
                let answers: Vec<_> = futures::stream::iter(prompts.iter())
                    .map(|p| j.ask(p, cancel))
                    .buffered(args.judge_concurrency.max(1))
                    .collect()
                    .await;
                prompts
                    .into_iter()
                    .zip(answers)
                    .map(|(prompt, v)| {
                        logs.critique.push(json!({"prompt": prompt, "response": v.response, "answer_index": v.index, "error": v.error}));
                        (v.index, v.error)
                    })
                    .collect()
            }
        };
        let mut level_metrics = Vec::with_capacity(prepared.len());
        for ((s, think, steps), (idx, judge_error)) in prepared.iter().zip(verdicts) {
            let first = first_correct_text(steps, idx, args.include_correct_step);
            let m = SampleMetrics::new(tok.count(think), tok.count(&first), thought_num(think));
            measured.push(MeasuredSample {
                level: level.clone(),
                index: s.index.clone(),
                steps: steps.len(),
                first_correct_step: idx,
                metrics: m.clone(),
                judge_error,
            });
            level_metrics.push(m);
        }
        levels.push((level.clone(), level_metrics));
    }
    Ok(ModelOutcome {
        label: run.label.clone(),
        results: by_level(&levels),
        samples: measured,
    })
}

/// The table of one metric: a row per model, a column per level.
pub fn metric_table(metric: &str, outcomes: &[ModelOutcome]) -> String {
    let mut levels: Vec<String> = Vec::new();
    for o in outcomes {
        for l in o.results.levels() {
            if !levels.contains(&l) {
                levels.push(l);
            }
        }
    }
    let mut t = crate::report::terminal::table();
    let mut header = vec![title(metric)];
    header.extend(levels.iter().cloned());
    t.set_header(header);
    for o in outcomes {
        let mut row = vec![o.label.clone()];
        for l in &levels {
            row.push(match o.results.get(metric, l) {
                Some(v) => display(metric, v),
                None => "-".to_owned(),
            });
        }
        t.add_row(row);
    }
    t.to_string()
}

fn write_jsonl<T: serde::Serialize>(path: &Path, rows: &[T]) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    for r in rows {
        serde_json::to_writer(&mut f, r)?;
        f.write_all(b"\n")?;
    }
    f.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `coordinator think-eval`: returns each model's outcome.
pub async fn think_eval(args: &ThinkEvalArgs) -> anyhow::Result<Vec<ModelOutcome>> {
    let tok: Arc<dyn TokenCounter> = load_tokenizer(&args.tokenizer_path)
        .with_context(|| format!("--tokenizer-path {}", args.tokenizer_path))?;
    let runs = read_runs(&args.runs, &args.dataset)?;
    let (judge, mode) = match (&args.judge_url, &args.judge_model) {
        (Some(url), Some(model)) => (
            Some(
                Judge::new(
                    url,
                    model,
                    args.judge_api_key.clone(),
                    args.judge_concurrency,
                )?
                .with_retries(args.judge_retries, RETRY_BACKOFF),
            ),
            FirstCorrectMode::Judge {
                model: model.clone(),
            },
        ),
        _ => (None, FirstCorrectMode::JudgeFree),
    };
    if args.split == SplitStrategy::Llm && judge.is_none() {
        anyhow::bail!(
            "--split llm needs a judge to reformat the reasoning: give --judge-url and --judge-model"
        );
    }
    let cancel = CancellationToken::new();
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut outcomes = Vec::with_capacity(runs.len());
    let mut logs = JudgeLogs::default();
    for run in &runs {
        let measured = measure(run, args, tok.as_ref(), judge.as_ref(), &mut logs, &cancel).await;
        let o = match measured {
            Ok(o) => o,
            Err(e) => {
                // what the judge said so far explains the failure
                write_jsonl(&args.output.join("reformat.jsonl"), &logs.reformat)?;
                return Err(e);
            }
        };
        let dir = args.output.join(keep_only(&o.label, "-_."));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write_json(&dir.join("think_eval_results.json"), &o.results)?;
        write_jsonl(&dir.join("think_eval_samples.jsonl"), &o.samples)?;
        outcomes.push(o);
    }
    if judge.is_some() {
        write_jsonl(&args.output.join("answer_index.jsonl"), &logs.critique)?;
    }
    if args.split == SplitStrategy::Llm {
        write_jsonl(&args.output.join("reformat.jsonl"), &logs.reformat)?;
    }
    let models: Map<String, Value> = outcomes
        .iter()
        .map(|o| (o.label.clone(), Value::Object(o.results.0.clone())))
        .collect();
    write_json(
        &args.output.join("think_eval_results.json"),
        &json!({
            "dataset": args.dataset,
            "first_correct": mode,
            "split": args.split.name(),
            "include_correct_step": args.include_correct_step,
            "tokenizer": tok.name(),
            "count": args.count,
            "max_tokens": args.max_tokens,
            "models": models,
        }),
    )?;
    let pairs: Vec<(String, ThinkResults)> = outcomes
        .iter()
        .map(|o| (o.label.clone(), o.results.clone()))
        .collect();
    let svg = think_figure(
        &format!("Thinking efficiency on {} ({})", args.dataset, mode.label()),
        &pairs,
    );
    let chart = args.output.join("think_eval_metrics.svg");
    std::fs::write(&chart, svg).with_context(|| format!("cannot write {}", chart.display()))?;
    Ok(outcomes)
}

/// `coordinator think-eval` from the command line: runs it and prints the tables.
pub async fn run_think_eval(args: &ThinkEvalArgs) -> anyhow::Result<()> {
    let recorder = crate::run_store::record::Recorder::start(
        &args.output,
        crate::run_store::record::RunKind::ThinkEval,
        "think-eval",
    )?;
    let result = think_eval(args).await;
    recorder.finish_with(&result, false)?;
    let outcomes = result?;
    let mode = if args.judge_url.is_some() {
        "judge"
    } else {
        "judge-free (math scorer)"
    };
    println!("first correct step: {mode}; split: {}", args.split.name());
    for metric in METRICS {
        println!("{}", metric_table(metric, &outcomes));
    }
    println!("\nresults: {}", args.output.display());
    Ok(())
}
