//! Running an eval job: load samples, lease what has no prediction yet to the agents (or
//! re-score saved predictions), write predictions, reviews and reports, print the tables.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::outcome::{Exit, Failure};
use swarm_eval::task::{self, EvalShardSpec};
use swarm_eval::{collection, registry};
use swarm_sandbox::batch::{Sandboxes, score_all};
use tokio_util::sync::CancellationToken;

use super::args::EvalArgs;
use super::job::EvalJob;
use super::lease::{LeasePlan, run as lease};
use super::progress::ProgressFile;
use super::report::{overview_table, perf_table, report, subset_table};
use super::store::EvalStore;
use crate::cluster::{AgentInfo, Cluster};
use crate::front::run_into;
use crate::run::run_flags;
use crate::run_store::record::RunKind;
use crate::run_store::stage_files::write_json;

/// `coordinator eval`: runs the plan the flags describe (as `coordinator run` runs a plan file),
/// or re-scores a run's saved predictions; returns the run folder.
pub async fn run_eval(args: &EvalArgs, cancel: &CancellationToken) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.rescore {
        return rescore_run(args, dir, cancel).await;
    }
    // `--use-cache` continues the run's eval workload, whatever its name
    let workload = match &args.use_cache {
        Some(dir) => only_workload(dir)?.unwrap_or_else(|| args.name.clone()),
        None => args.name.clone(),
    };
    let plan = args.plan(&workload).map_err(Failure::usage)?;
    let (resume, sandbox) = (args.use_cache.clone(), args.sandbox.policy());
    run_flags(RunKind::Eval, &plan, resume, sandbox, cancel).await
}

/// The eval folders in `dir` (a run, or an eval folder itself); an error names them when
/// there are several.
fn eval_root(dir: &Path) -> anyhow::Result<PathBuf> {
    let mut roots = crate::run_store::layout::eval_roots(dir);
    match roots.len() {
        0 => Ok(crate::run_store::layout::eval_root(dir, "")),
        1 => Ok(roots.remove(0)),
        _ => {
            let names: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            Err(Failure::error(
                Exit::Usage,
                format!(
                    "{} holds several evals; name one: {}",
                    dir.display(),
                    names.join(", ")
                ),
            ))
        }
    }
}

/// The name of the one eval workload of run `dir` (`eval/<workload>/`), if it has one.
fn only_workload(dir: &Path) -> anyhow::Result<Option<String>> {
    let root = eval_root(dir)?;
    let eval = dir.join(crate::run_store::layout::EVAL_DIR);
    Ok((root.parent() == Some(eval.as_path()))
        .then(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .flatten())
}

/// `--rescore DIR`: scores the saved predictions again, generating nothing.
async fn rescore_run(
    args: &EvalArgs,
    dir: &Path,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    let root = eval_root(dir)?;
    let args = args.completed(&root).map_err(Failure::usage)?;
    let job = args.rescore_job().map_err(Failure::usage)?;
    run_into(dir, RunKind::Rescore, &args.name, cancel, async |_| {
        run_job(None, &[], &job, &root, true, cancel).await?;
        Ok((Exit::Ok, Vec::new()))
    })
    .await
}

/// Runs `job` with `agents` of `cluster`, storing under `root` (`<run>/eval/<workload>`). With `rescore_only`, nothing is generated: saved predictions are
/// re-scored with the current extractors and scorers.
pub async fn run_job(
    mut cluster: Option<&mut Cluster>,
    agents: &[AgentInfo],
    job: &EvalJob,
    root: &Path,
    rescore_only: bool,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let mut store = EvalStore::open(root, &job.model)?;
    if !rescore_only {
        store.progress = Some(ProgressFile::new(root, store.model_folder(), &job.datasets));
    }
    let mut rows = Vec::new();
    let mut all_failed = Vec::new();
    for name in &job.datasets {
        let mut first_error: Option<String> = None;
        let bench = registry::benchmark(name)?;
        let dargs = job.dataset_args.get(name).cloned().unwrap_or_default();
        let mut samples = bench
            .load(&dargs)
            .with_context(|| format!("benchmark {name}"))?;
        if name == collection::NAME {
            // the task's per-dataset filters score that dataset's lines (EvalScope's way)
            collection::apply_task_filters(&mut samples, &job.dataset_args)
                .with_context(|| format!("benchmark {name}: dataset_args"))?;
            // and its per-dataset sandbox settings run that dataset's code lines
            collection::apply_task_sandbox_configs(&mut samples, &job.dataset_args)
                .with_context(|| format!("benchmark {name}: dataset_args"))?;
        }
        if samples.is_empty() {
            anyhow::bail!("benchmark {name}: no samples (check local_path and subset_list)");
        }
        // code benchmarks re-run only predictions kept from an earlier run, not this run's
        let kept: Option<std::collections::HashSet<(String, u32)>> =
            (samples.iter().any(|s| bench.runs_code_on(s)) && !rescore_only).then(|| {
                store
                    .predictions
                    .get(name.as_str())
                    .map(|ps| ps.iter().map(|p| p.key()).collect())
                    .unwrap_or_default()
            });
        if !rescore_only {
            let pending: Vec<_> = samples
                .iter()
                .flat_map(|s| (0..job.repeats).map(move |r| (s.clone(), r)))
                .filter(|(s, r)| !store.has(name, &s.id, *r))
                .collect();
            let total = samples.len() as u64 * u64::from(job.repeats);
            if let Some(progress) = store.progress.as_mut() {
                progress.planned(name, total, total.saturating_sub(pending.len() as u64));
            }
            if !pending.is_empty() {
                let Some(c) = cluster.as_deref_mut() else {
                    anyhow::bail!(
                        "benchmark {name}: {} samples to generate and no agents",
                        pending.len()
                    );
                };
                // each agent's share of the batch size, rounded down: the sum never passes it
                // (with fewer requests than agents, each agent still gets one)
                let per_agent = (job.batch_size / agents.len().max(1) as u32).max(1);
                let template = EvalShardSpec {
                    shard_id: String::new(),
                    benchmark: name.clone(),
                    args: dargs.clone(),
                    target: job.target.clone(),
                    gen_params: job.gen_params.clone(),
                    items: vec![],
                    concurrency: per_agent,
                    judge: job.judge.as_deref().cloned(),
                };
                let plan = LeasePlan {
                    prefix: format!("{}/{name}", job.name),
                    template,
                    judge_strategy: job.judge_strategy,
                    items: pending,
                    batch: (per_agent as usize * 2).max(4),
                    agents,
                };
                let stats = lease(c, plan, &mut store, cancel).await?;
                first_error = stats.first_error.clone();
                tracing::info!(benchmark = %name, stored = stats.stored, duplicates = stats.duplicates, released = stats.released, failed = stats.failed, foreign = stats.foreign, "eval benchmark done");
                if stats.foreign > 0 {
                    eprintln!(
                        "benchmark {name}: {} messages from agents about batches or items they were not leased were ignored",
                        stats.foreign
                    );
                }
            }
        }
        // saved predictions (with `rescore_only` all of them) are scored by today's extractors
        // and scorers, and the reviews say what the report counts
        let judged = rescore(
            &mut store,
            (bench.as_ref(), job),
            &samples,
            &dargs,
            (kept.as_ref(), cancel),
        )
        .await?;
        if let Some(line) = judge_line(name, store.predictions.get(name.as_str())) {
            println!("{line}");
        }
        let by_id: std::collections::HashMap<&str, &swarm_eval::Sample> =
            samples.iter().map(|s| (s.id.as_str(), s)).collect();
        store.rewrite_reviews(name, &by_id)?;
        if judged {
            // the verdicts the judge just gave are what a later rescore keeps
            store.rewrite_predictions(name, &by_id)?;
        }
        let preds = store
            .predictions
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        // failed generations are not kept as predictions: none kept means every one failed
        let planned = samples.len() * job.repeats as usize;
        if preds.is_empty() && planned > 0 && !cancel.is_cancelled() {
            let example = first_error
                .as_deref()
                .map(swarm_common::metrics::aggregate::error_example)
                .unwrap_or_else(|| "no prediction was returned".to_string());
            all_failed.push(format!(
                "benchmark {name}: all {planned} samples failed (e.g. {example})"
            ));
            // no report: a score over no answers would be a fabricated 0
            eprintln!("benchmark {name}: all {planned} samples failed; no report written");
            continue;
        }
        let missing = super::report::unpredicted(&samples, job.repeats, &preds);
        if missing > 0 {
            eprintln!(
                "benchmark {name}: {missing} of {planned} planned samples have no prediction; the report counts the {} that do",
                planned - missing
            );
        }
        let mut r = report(&job.model, bench.as_ref(), &samples, job.repeats, &preds);
        let dir = store.reports_dir();
        if name == collection::NAME {
            r = super::collection_report::write(&job.model, &samples, job.repeats, &preds, &dir)?;
        }
        // EvalScope 1.14's perf summary over the requests that produced a prediction
        let failed = store.failed.get(name.as_str()).copied().unwrap_or(0);
        r.perf_metrics = Some(swarm_eval::perf::perf_metrics(&preds, failed));
        r.judge_summary = swarm_eval::judge::summary::summarize(&preds);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write_json(&dir.join(format!("{name}.json")), &r)?;
        if name == swarm_eval::benchmarks::needle_haystack::NAME {
            // EvalScope's needle_haystack_heatmap_<subset>.png, as SVG
            let show_score = dargs
                .extra_params
                .get("show_score")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            for (file, svg) in crate::report::html::needle::heatmap_files(&r, show_score) {
                let path = dir.join(file);
                std::fs::write(&path, svg)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        println!("{}", subset_table(&r));
        if let Some(t) = perf_table([&r]) {
            println!("{name} perf table:\n{t}");
        }
        rows.push((bench.meta().task_type, r));
        if cancel.is_cancelled() {
            break;
        }
    }
    if let Some(progress) = store.progress.as_mut() {
        progress.finish();
    }
    println!("{}", overview_table(&rows));
    if let Some(t) = perf_table(rows.iter().map(|(_, r)| r)) {
        println!("Overall perf table:\n{t}");
    }
    if !all_failed.is_empty() {
        return Err(Failure::error(Exit::NoSuccess, all_failed.join("\n")));
    }
    Ok(())
}

/// Re-scores stored predictions (those in `only`, when given) with the current extractors and
/// scorers; samples that run code (code benchmarks, a collection's code lines) run it in the
/// agent's sandbox, off the async threads. True when the judge was asked about some of them
/// (their predictions now carry new verdicts).
async fn rescore(
    store: &mut EvalStore,
    (bench, job): (&dyn swarm_eval::Benchmark, &EvalJob),
    samples: &[swarm_eval::Sample],
    dargs: &swarm_eval::DatasetArgs,
    (only, cancel): (
        Option<&std::collections::HashSet<(String, u32)>>,
        &CancellationToken,
    ),
) -> anyhow::Result<bool> {
    let strategy = job.judge_strategy;
    let name = bench.meta().name;
    let filters = task::filters(name, dargs)?;
    let by_id: std::collections::HashMap<&str, &swarm_eval::Sample> =
        samples.iter().map(|s| (s.id.as_str(), s)).collect();
    let Some(preds) = store.predictions.get_mut(name) else {
        return Ok(false);
    };
    let chosen = |p: &swarm_eval::task::Prediction| {
        by_id.contains_key(p.sample_id.as_str()) && only.is_none_or(|o| o.contains(&p.key()))
    };
    // samples that run no code are scored here; code runs in the sandboxes, off async threads
    let mut picked = Vec::new();
    // predictions whose strategy needs a verdict they do not carry: asked at the end
    let mut missing: Vec<super::rejudge::Pending> = Vec::new();
    for (i, p) in preds.iter_mut().enumerate().filter(|(_, p)| chosen(p)) {
        let Some(s) = by_id.get(p.sample_id.as_str()) else {
            continue;
        };
        if job.rejudge {
            p.judge = None;
        }
        if bench.runs_code_on(s) {
            picked.push(i);
        } else {
            let rule = task::score(bench, &filters, s, &p.completion);
            if task::keep_judgement(p, strategy, bench.scoring_policy(), rule.clone()).is_err() {
                missing.push((i, rule));
            }
        }
    }
    if picked.is_empty() {
        return ask_judge(preds, missing, (bench, job), &by_id, cancel).await;
    }
    let items: Vec<(swarm_eval::Sample, String)> = picked
        .iter()
        .filter_map(|i| {
            let p = &preds[*i];
            Some((
                (*by_id.get(p.sample_id.as_str())?).clone(),
                p.completion.clone(),
            ))
        })
        .collect();
    let (bench_name, args) = (name.to_owned(), dargs.clone());
    let scored = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let bench = registry::benchmark(&bench_name)?;
        // re-scoring runs on the user's own machine, with the settings of their own run
        let trusted = swarm_sandbox::policy::SandboxPolicy::trusted();
        let sandboxes = Sandboxes::for_samples(
            bench.as_ref(),
            &args,
            items.iter().map(|(s, _)| s),
            ("coordinator", &trusted),
        )
        .with_context(|| format!("benchmark {bench_name}"))?;
        let refs: Vec<(&swarm_eval::Sample, &str)> =
            items.iter().map(|(s, c)| (s, c.as_str())).collect();
        Ok(score_all(bench.as_ref(), &filters, &sandboxes, &refs))
    })
    .await
    .context("re-scoring code")??;
    for (i, rule) in picked.into_iter().zip(scored) {
        if task::keep_judgement(
            &mut preds[i],
            strategy,
            bench.scoring_policy(),
            rule.clone(),
        )
        .is_err()
        {
            missing.push((i, rule));
        }
    }
    ask_judge(preds, missing, (bench, job), &by_id, cancel).await
}

/// Puts the predictions still `missing` a verdict to the job's judge (a rescore has no agents:
/// the coordinator asks it), or says why it cannot; true when it asked.
async fn ask_judge(
    preds: &mut [swarm_eval::task::Prediction],
    missing: Vec<super::rejudge::Pending>,
    (bench, job): (&dyn swarm_eval::Benchmark, &EvalJob),
    by_id: &std::collections::HashMap<&str, &swarm_eval::Sample>,
    cancel: &CancellationToken,
) -> anyhow::Result<bool> {
    if missing.is_empty() {
        return Ok(false);
    }
    let name = bench.meta().name;
    let Some(judge) = job.judge.as_deref() else {
        anyhow::bail!(
            "benchmark {name}: {} predictions carry no judge verdict, which judge_strategy {:?} needs; give --judge-model-args to ask the judge, or rescore with the run's strategy",
            missing.len(),
            job.judge_strategy.name()
        );
    };
    eprintln!(
        "benchmark {name}: asking the judge {} about {} predictions",
        judge.judge_id,
        missing.len()
    );
    let width = job.batch_size.max(1) as usize;
    super::rejudge::ask(preds, missing, (bench, judge), by_id, width, cancel)
        .await
        .with_context(|| format!("benchmark {name}: judge"))?;
    Ok(true)
}

/// What the judge did for a benchmark's predictions, for the terminal: how many it was asked
/// about and how many got no usable verdict, by cause (their rule scores stand, marked
/// `degraded` or `fallback`). None when no judge was asked.
fn judge_line(name: &str, preds: Option<&Vec<swarm_eval::task::Prediction>>) -> Option<String> {
    let reviews: Vec<_> = preds?
        .iter()
        .filter_map(|p| p.judge.as_ref()?.review.as_ref())
        .collect();
    if reviews.is_empty() {
        return None;
    }
    let failed: Vec<_> = reviews.iter().filter(|r| !r.usable()).collect();
    if failed.is_empty() {
        return Some(format!(
            "benchmark {name}: the judge scored {} samples",
            reviews.len()
        ));
    }
    let mut causes = std::collections::BTreeMap::<&str, u32>::new();
    for r in &failed {
        for (cause, n) in &r.failures {
            *causes.entry(cause.as_str()).or_default() += n;
        }
    }
    let causes: Vec<String> = causes.iter().map(|(c, n)| format!("{c}: {n}")).collect();
    Some(format!(
        "benchmark {name}: the judge gave no usable verdict for {} of {} samples (failed attempts: {}); their rule scores stand, marked degraded/fallback in the reviews",
        failed.len(),
        reviews.len(),
        causes.join(", ")
    ))
}
