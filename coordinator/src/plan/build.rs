//! From a checked plan to runnable perf jobs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use swarm_common::dataset::{BadLinePolicy, DatasetKind, DatasetSpec};
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::schedule::{Arrival, LoadModel};
use swarm_common::shard::{ApiKind, GenParams, Secret, TargetSpec};
use swarm_common::tokenize::load_tokenizer;

use super::model::{PerfDef, Plan, RampDef, StageDef, TargetDef};
use crate::perf::job::{PerfJob, StageSpec};
use crate::perf::sla::{self, Variable};
use crate::perf::sla_run::SlaPlan;
use swarm_common::ramp::{Ramp, RampStrategy};

mod stage;
pub use stage::stage_spec;

fn api_key(t: &TargetDef, plan_dir: &Path) -> anyhow::Result<Option<Secret>> {
    if let Some(var) = &t.api_key_env {
        let v = std::env::var(var)
            .with_context(|| format!("target {}: api_key_env {var} is not set", t.name))?;
        // set but empty: no key (no bare `Authorization: Bearer ` header)
        return Ok((!v.trim().is_empty()).then(|| Secret(v.trim().to_string())));
    }
    if let Some(file) = &t.api_key_file {
        let path = plan_dir.join(file);
        let v = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "target {}: cannot read api_key_file {}",
                t.name,
                path.display()
            )
        })?;
        return Ok(Some(Secret(v.trim_end().to_string())));
    }
    Ok(None)
}

/// The endpoint of `t`; `sim_urls` holds the base URLs of the simulators started for the plan.
pub fn target_spec(
    t: &TargetDef,
    plan_dir: &Path,
    sim_urls: &BTreeMap<String, String>,
) -> anyhow::Result<TargetSpec> {
    let (url, model) = match (&t.url, &t.sim) {
        (Some(u), _) => (u.clone(), t.model.clone().unwrap_or_default()),
        (None, Some(sim)) => {
            let Some(base) = sim_urls.get(&t.name) else {
                bail!("target {}: simulator was not started", t.name);
            };
            (
                base.clone(),
                t.model.clone().unwrap_or_else(|| sim.model.clone()),
            )
        }
        (None, None) => bail!("target {}: needs url or sim", t.name),
    };
    let flavour = t.api.as_deref().unwrap_or("openai");
    let Some((api, url)) = ApiKind::from_flag(flavour, &url) else {
        bail!("target {}: api {flavour:?} is not supported", t.name);
    };
    Ok(TargetSpec {
        url,
        api,
        model,
        api_key: match &t.api_key {
            Some(key) => Some(key.clone()),
            None => api_key(t, plan_dir)?,
        },
        headers: t
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        connect_timeout_s: t.timeouts.connect_s,
        read_timeout_s: t.timeouts.read_s,
        total_timeout_s: t.timeouts.total_s,
        transport: crate::transport_args::transport(
            t.http2,
            t.http2_connections,
            t.http2_max_streams,
            t.tls_ca.as_ref().map(|p| plan_dir.join(p)).as_deref(),
        )
        .with_context(|| format!("target {}", t.name))?,
    })
}

/// The SLA search of `p`, starting where its first stage says.
pub fn sla_plan(p: &PerfDef) -> anyhow::Result<Option<SlaPlan>> {
    let (Some(def), Some(first)) = (&p.sla, p.stages.first()) else {
        return Ok(None);
    };
    let groups = sla::parse_params(&def.params)?;
    let upper = def.upper_bound.min(u64::from(u32::MAX));
    let variable = match def.variable.as_str() {
        "parallel" => Variable::Parallel,
        "rate" => Variable::Rate,
        other => bail!("sla variable {other:?}: expected parallel or rate"),
    };
    let start = match variable {
        Variable::Parallel => f64::from(first.parallel.unwrap_or(1)),
        Variable::Rate => first.rate.unwrap_or(-1.0),
    };
    let range = sla::Range::new(start, def.lower_bound, upper)?;
    if let Some(m) = def.number_multiplier
        && !(m.is_finite() && m > 0.0)
    {
        bail!("--sla-number-multiplier must be a positive number, got {m}");
    }
    if def.fixed_parallel == Some(0) {
        bail!("--sla-fixed-parallel must be at least 1");
    }
    if def.num_runs == 0 {
        bail!("--sla-num-runs must be at least 1");
    }
    // the start stage needs no bound of its own: each probe's number is the search's
    let start_stage = match (&def.arrival, def.burstiness) {
        // the search's own arrivals, parsed as a stage at some rate would take them
        (None, None) => StageDef {
            number: Some(1),
            ramp: None,
            ..first.clone()
        },
        (arrival, burstiness) => StageDef {
            number: Some(1),
            ramp: None,
            rate: Some(1.0),
            arrival: arrival.clone(),
            burstiness,
            ..first.clone()
        },
    };
    let arrival = match stage_spec(&start_stage).map_err(|(f, m)| anyhow::anyhow!("{f}: {m}"))? {
        StageSpec {
            load: LoadModel::Open { arrival, .. },
            ..
        } => arrival,
        _ => Arrival::Poisson,
    };
    Ok(Some(SlaPlan {
        variable,
        params: def.params.clone(),
        groups,
        range,
        num_runs: def.num_runs,
        fixed_parallel: def
            .fixed_parallel
            .unwrap_or(u32::try_from(upper).unwrap_or(u32::MAX)),
        multiplier: def.number_multiplier,
        arrival,
        duration_s: first.duration_s,
        label_targets: BTreeMap::new(),
    }))
}

/// EvalScope reads an embedding or rerank dataset's shape from the extra arguments.
fn shape_from_extra(
    spec: &mut DatasetSpec,
    extra: &serde_json::Map<String, serde_json::Value>,
) -> anyhow::Result<()> {
    for (key, v) in extra {
        let n = || v.as_u64().and_then(|n| usize::try_from(n).ok());
        match key.as_str() {
            "batch_size" => spec.batch_size = n().context("--extra-args batch_size")?,
            "num_documents" => spec.num_documents = n().context("--extra-args num_documents")?,
            "document_length_ratio" => {
                spec.document_length_ratio =
                    v.as_f64().context("--extra-args document_length_ratio")?
            }
            _ => {}
        }
    }
    Ok(())
}

/// `target` for a `speed_benchmark` dataset: its prompts are plain completions, so a chat
/// endpoint's `/chat/completions` becomes `/completions`, with a warning, as EvalScope does.
fn speed_benchmark_target(kind: DatasetKind, mut target: TargetSpec) -> TargetSpec {
    if kind.is_speed_benchmark()
        && matches!(target.api, ApiKind::Chat)
        && let Some(base) = target.url.strip_suffix("/chat/completions")
    {
        eprintln!(
            "warning: the URL is not set correctly for `{kind}`: using `v1/completions` instead of `v1/chat/completions`"
        );
        target.url = format!("{base}/completions");
        target.api = ApiKind::Completions;
    }
    target
}

fn job(
    name: &str,
    p: &PerfDef,
    target: TargetSpec,
    plan_dir: &Path,
    scratch: &Path,
) -> anyhow::Result<(PerfJob, Option<SlaPlan>)> {
    let sla = sla_plan(p)?;
    // an SLA search makes its stages as it goes; the largest it may run sizes the prompts
    let stages = match &sla {
        Some(plan) => vec![plan.stage(plan.range.upper, 0)],
        None => p
            .stages
            .iter()
            .map(|s| {
                // a trace bounds its own replay: a stage without a bound replays all of it
                let whole_trace = p.dataset.kind == swarm_common::trace::DATASET
                    && s.number.is_none()
                    && s.duration_s.is_none();
                let s = match whole_trace {
                    true => &StageDef {
                        number: Some(u64::MAX),
                        ..s.clone()
                    },
                    false => s,
                };
                stage_spec(s).map_err(|(f, m)| anyhow::anyhow!("{f}: {m}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
    };
    let d = &p.dataset;
    if d.kind == swarm_common::trace::DATASET {
        return trace_job(name, p, target, plan_dir, scratch, stages).map(|j| (j, sla));
    }
    if swarm_common::dataset::vl::is_vl(&d.kind) {
        let prompts = crate::perf::vl_load::load_vl(p, &target, &stages, plan_dir, scratch)?;
        return perf_job(name, p, target, prompts, stages, false).map(|j| (j, sla));
    }
    let kind: DatasetKind = d.kind.parse()?;
    let target = speed_benchmark_target(kind, target);
    if kind.is_speed_benchmark() && !p.sqlite {
        anyhow::bail!(
            "dataset {kind}: its speed table is computed from the per-request records, which --no-sqlite (sqlite: false) turns off"
        );
    }
    crate::plan::multi_turn::check(p, kind).map_err(|(f, m)| anyhow::anyhow!("{f}: {m}"))?;
    let mut spec = DatasetSpec::new(kind, d.path.as_ref().map(|p| plan_dir.join(p)));
    if let Some(m) = &p.multi_turn {
        spec.min_turns = m.min_turns;
        spec.max_turns = m.max_turns;
    }
    if let Some(v) = d.min_prompt_length {
        spec.min_prompt_length = v;
    }
    if let Some(v) = d.max_prompt_length {
        spec.max_prompt_length = v;
    }
    if let Some(v) = d.prefix_length {
        spec.prefix_length = v;
    }
    spec.seed = p.seed;
    shape_from_extra(&mut spec, &p.extra_args)?;
    spec.on_bad_line = match d.on_bad_line.as_deref() {
        Some("fail") => BadLinePolicy::Fail,
        _ => BadLinePolicy::Skip,
    };
    spec.number = match (d.number, kind) {
        (Some(n), _) => n,
        (None, k) if k.is_generated() => crate::perf::job::random_prompt_count(&stages, p.warmup),
        (None, _) => crate::perf::job::file_prompt_count(&stages, p.warmup),
    };
    let tokenizer = d.tokenizer.as_deref().map(load_tokenizer).transpose()?;
    let prompts = crate::perf::prompts::load_prompt_set(
        &spec,
        tokenizer.as_deref(),
        &format!("workload {name}"),
        scratch,
    )?;
    let job = perf_job(name, p, target, prompts, stages, kind.is_speed_benchmark())?;
    Ok((job, sla))
}

/// A `mooncake_trace` workload: every stage replays the trace (its first `number` lines).
fn trace_job(
    name: &str,
    p: &PerfDef,
    target: TargetSpec,
    plan_dir: &Path,
    scratch: &Path,
    stages: Vec<StageSpec>,
) -> anyhow::Result<PerfJob> {
    let d = &p.dataset;
    let Some(path) = &d.path else {
        bail!(
            "dataset {}: needs a trace file (path, --dataset-path)",
            d.kind
        );
    };
    if d.tokenizer.is_none() {
        bail!(
            "dataset {}: agents build each line's prompt with a tokenizer (tokenizer, --tokenizer-path)",
            d.kind
        );
    }
    if p.sla.is_some() {
        bail!(
            "dataset {}: a trace sets its own rate; an SLA search cannot vary it",
            d.kind
        );
    }
    if !p.sqlite {
        bail!(
            "dataset {}: the send-time error is computed from the per-request records, which --no-sqlite (sqlite: false) turns off",
            d.kind
        );
    }
    let limit = stages.iter().map(|s| s.number).collect::<Option<Vec<_>>>();
    let limit = limit.and_then(|n| n.into_iter().max());
    let trace = crate::perf::trace_load::load_trace(&plan_dir.join(path), limit, scratch)?;
    let speed = d.speed.unwrap_or(1.0);
    let stages = stages
        .iter()
        .map(|s| crate::perf::trace_load::trace_stage(s, &trace, speed))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut job = perf_job(name, p, target, Arc::clone(&trace.set), stages, false)?;
    job.warmup = 0; // every line is sent once, at its time
    Ok(job)
}

fn perf_job(
    name: &str,
    p: &PerfDef,
    target: TargetSpec,
    prompts: Arc<crate::cluster::PromptSet>,
    stages: Vec<StageSpec>,
    speed_benchmark: bool,
) -> anyhow::Result<PerfJob> {
    let d = &p.dataset;
    let job = PerfJob {
        name: name.to_string(),
        target,
        gen_params: GenParams {
            stream: p.stream,
            max_tokens: p.max_tokens,
            min_tokens: p.min_tokens,
            temperature: p.temperature,
            top_p: p.top_p,
            top_k: p.top_k,
            extra: p.extra_args.clone(),
        },
        prompts,
        tokenizer: d.tokenizer.clone(),
        warmup: p.warmup,
        seed: p.seed,
        hist: HistSettings::default(),
        stages,
        sqlite: p.sqlite,
        goodput: p.goodput.filter(|g| !g.is_empty()),
        thresholds: p
            .thresholds
            .iter()
            .map(|t| crate::perf::threshold::Threshold::parse(t))
            .collect::<Result<_, _>>()?,
        early_stop: crate::perf::args::checked_early_stop(p.early_stop)?,
        multi_turn: p.multi_turn.as_ref().map(crate::plan::multi_turn::spec),
        outputs: Box::new(crate::perf::job::Outputs {
            percentiles: swarm_common::metrics::evalscope::checked_extra_percentiles(
                &p.percentiles,
            )
            .map_err(|e| anyhow::anyhow!("workload {name}: percentiles: {e}"))?,
            export_csv: p.export_csv,
            speed_benchmark,
        }),
    };
    Ok(job)
}

/// A workload ready to run.
#[derive(Debug, Clone)]
pub enum Job {
    /// A perf sweep, or an SLA search.
    Perf(PerfJob, Option<Box<SlaPlan>>),
    /// A capability eval.
    Eval(crate::eval::job::EvalJob),
}

/// The eval job of `e`, its relative paths from `plan_dir`.
pub fn eval_job(
    name: &str,
    e: &super::model::EvalDef,
    target: TargetSpec,
    plan_dir: &Path,
) -> anyhow::Result<crate::eval::job::EvalJob> {
    let judge = judge_spec(e, &target)?;
    let mut dataset_args = e.dataset_args.clone();
    for d in &e.datasets {
        let a = dataset_args.entry(d.clone()).or_default();
        if a.limit.is_none() {
            a.limit = e.limit;
        }
        if let Some(p) = &a.local_path {
            a.local_path = Some(plan_dir.join(p));
        }
    }
    let mut generation = crate::eval::job::gen_params(e.generation_config.clone(), e.stream);
    let n = crate::eval::job::take_n(&mut generation.extra);
    Ok(crate::eval::job::EvalJob {
        name: name.to_string(),
        model: target.model.clone(),
        target,
        datasets: e.datasets.clone(),
        dataset_args,
        gen_params: generation,
        batch_size: e.eval_batch_size.max(1),
        repeats: n.unwrap_or(e.repeats).max(1),
        judge_strategy: e.judge_strategy,
        judge: judge.map(Box::new),
        judge_model_args: e.judge_model_args.clone().map(Box::new),
        rejudge: false,
    })
}

/// The judge of eval `e` (its requests time out as the target's do), checked against every
/// benchmark's scoring policy as EvalScope does before any request.
fn judge_spec(
    e: &super::model::EvalDef,
    target: &TargetSpec,
) -> anyhow::Result<Option<swarm_eval::judge::JudgeSpec>> {
    let spec = match &e.judge_model_args {
        Some(a) => Some(
            a.spec(
                e.judge_strategy,
                (
                    target.connect_timeout_s,
                    target.read_timeout_s,
                    target.total_timeout_s,
                ),
            )
            .map_err(|m| anyhow::anyhow!(m))?,
        ),
        None => None,
    };
    for d in &e.datasets {
        let policy = swarm_eval::registry::benchmark(d)?.scoring_policy();
        swarm_eval::judge::validate(d, e.judge_strategy, policy, spec.is_some())
            .map_err(|m| anyhow::anyhow!(m))?;
    }
    Ok(spec)
}

/// Every workload of the plan as a job, in plan order.
/// Prompt sets are kept in `scratch` (the outputs folder).
pub fn jobs(
    plan: &Plan,
    plan_dir: &Path,
    sim_urls: &BTreeMap<String, String>,
    scratch: &Path,
) -> anyhow::Result<Vec<Job>> {
    plan.workloads
        .iter()
        .map(|w| {
            let Some(target_name) = w.target() else {
                anyhow::bail!("workload {}: needs perf or eval", w.name)
            };
            let t = plan
                .targets
                .iter()
                .find(|t| t.name == target_name)
                .with_context(|| format!("workload {}: unknown target {target_name}", w.name))?;
            let target = target_spec(t, plan_dir, sim_urls)?;
            match (&w.perf, &w.eval) {
                (Some(p), _) => {
                    let (job, mut sla) = job(&w.name, p, target, plan_dir, scratch)
                        .with_context(|| format!("workload {}", w.name))?;
                    if let Some(sla) = &mut sla {
                        for (value, name) in &p.label_targets {
                            let t = plan.targets.iter().find(|t| t.name == *name).with_context(
                                || format!("workload {}: unknown target {name}", w.name),
                            )?;
                            let spec = target_spec(t, plan_dir, sim_urls)?;
                            sla.label_targets.insert(value.clone(), spec);
                        }
                    }
                    Ok(Job::Perf(job, sla.map(Box::new)))
                }
                (None, Some(e)) => Ok(Job::Eval(
                    eval_job(&w.name, e, target, plan_dir)
                        .with_context(|| format!("workload {}", w.name))?,
                )),
                (None, None) => anyhow::bail!("workload {}: needs perf or eval", w.name),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
