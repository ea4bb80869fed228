//! Reading a plan: environment substitution, YAML with field paths and line:column in errors,
//! then the checks serde cannot express.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use swarm_common::split::{SplitError, split_stage};

use super::env::{EnvError, Vars, expand};
use super::model::{CoordinatorDef, MAX_LOCAL_AGENTS, Plan};
use super::placement::Placement;
use super::topology::parse_listen;

/// A plan that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A `${VAR}` reference failed (its message is whole: not chained as a source).
    #[error("{path}: {error}")]
    Env {
        /// The plan file.
        path: PathBuf,
        /// What failed.
        error: EnvError,
    },
    /// The YAML does not match the plan format.
    #[error("{path}:{line}:{column}: {field}: {message}")]
    Syntax {
        /// The plan file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// The field path, e.g. `workloads[0].perf.stages[1].rate`.
        field: String,
        /// The parser's message.
        message: String,
    },
    /// The plan parses but is not runnable.
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The plan file.
        path: PathBuf,
        /// The field path.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks the plan file at `path`, reading only the variables `allow_env` allows
/// (all when empty); returns it and its text. A plan that does not check is a usage error.
pub fn load_plan(path: &Path, allow_env: &[String]) -> anyhow::Result<(Plan, String)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read plan {}", path.display()))?;
    let plan = parse_plan(&text, path, super::env::policy(allow_env).as_ref())
        .map_err(|e| crate::outcome::Failure::usage(e.into()))?;
    Ok((plan, text))
}

/// Parses and checks plan `text` (`path` is only used in messages).
pub fn parse_plan(text: &str, path: &Path, vars: &dyn Vars) -> Result<Plan, PlanError> {
    let text = expand(text, vars).map_err(|error| PlanError::Env {
        path: path.to_path_buf(),
        error,
    })?;
    let de = serde_norway::Deserializer::from_str(&text);
    let plan: Plan = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner();
        let (line, column) = inner
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((0, 0));
        PlanError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            field: if field == "." {
                "(top level)".into()
            } else {
                field
            },
            message: bare_message(&inner.to_string()),
        }
    })?;
    // the variables a plan names for credentials are read later: allowed or not, say so now
    let named = plan
        .targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            t.api_key_env
                .as_ref()
                .map(|v| (format!("targets[{i}].api_key_env"), v))
        })
        .chain(
            plan.coordinator
                .as_ref()
                .and_then(|c| c.token_env.as_ref())
                .map(|v| ("coordinator.token_env".to_string(), v)),
        );
    for (field, var) in named {
        if !vars.allowed(var) {
            return Err(PlanError::Invalid {
                path: path.to_path_buf(),
                field,
                message: format!(
                    "environment variable {var} may not be read by this plan (allow it with --allow-env {var})"
                ),
            });
        }
    }
    check(&plan, path)?;
    Ok(plan)
}

/// The YAML parser's message without its own path prefix and location suffix (both are in the
/// error already).
fn bare_message(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains(" column ") => &msg[..i],
        _ => msg,
    };
    let msg = match msg.split_once(": ") {
        Some((head, tail)) if !head.contains(' ') => tail,
        _ => msg,
    };
    msg.to_string()
}

/// The checks serde cannot express (`path` names the plan in messages): a plan file gets
/// them, and so does the plan `perf` and `eval` make of their flags.
pub fn check(plan: &Plan, path: &Path) -> Result<(), PlanError> {
    let bad = |field: String, message: String| PlanError::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    };
    if plan.version != 1 {
        return Err(bad(
            "version".into(),
            format!("unsupported plan version {}, expected 1", plan.version),
        ));
    }
    if plan.workloads.is_empty() {
        return Err(bad(
            "workloads".into(),
            "a plan needs at least one workload".into(),
        ));
    }
    let mut names = BTreeSet::new();
    for (i, t) in plan.targets.iter().enumerate() {
        let f = |k: &str| format!("targets[{i}].{k}");
        if !names.insert(t.name.as_str()) {
            return Err(bad(
                f("name"),
                format!("duplicate target name {:?}", t.name),
            ));
        }
        match (&t.url, &t.sim) {
            (Some(_), Some(_)) => return Err(bad(f("url"), "give url or sim, not both".into())),
            (None, None) => {
                return Err(bad(
                    f("url"),
                    "a target needs url (or sim for the built-in simulator)".into(),
                ));
            }
            (Some(_), None) if t.model.is_none() => {
                return Err(bad(f("model"), "required with url".into()));
            }
            (None, Some(sim)) => sim.validate().map_err(|e| bad(f("sim"), e.to_string()))?,
            _ => {}
        }
        if let Some(api) = &t.api
            && swarm_common::shard::ApiKind::from_flag(api, "").is_none()
        {
            return Err(bad(
                f("api"),
                format!(
                    "unknown api {api:?} (openai, openai_embedding, openai_rerank, openai_responses)"
                ),
            ));
        }
        if t.api_key_env.is_some() && t.api_key_file.is_some() {
            return Err(bad(
                f("api_key_env"),
                "give api_key_env or api_key_file, not both".into(),
            ));
        }
        for (k, v) in [
            ("timeouts.connect_s", t.timeouts.connect_s),
            ("timeouts.read_s", t.timeouts.read_s),
            ("timeouts.total_s", t.timeouts.total_s),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(
                    f(k),
                    format!("must be a positive number of seconds, got {v}"),
                ));
            }
        }
    }
    check_topology(plan, &bad)?;
    // with only local agents the split of every `placement: split` stage is known now
    let known_agents = plan.agents().known_count();
    let mut workload_names = BTreeSet::new();
    for (i, w) in plan.workloads.iter().enumerate() {
        let f = |k: &str| format!("workloads[{i}].{k}");
        if !workload_names.insert(w.name.as_str()) {
            return Err(bad(
                f("name"),
                format!("duplicate workload name {:?}", w.name),
            ));
        }
        if let Placement::PerLabel(label) = &w.placement
            && label.trim().is_empty()
        {
            return Err(bad(
                f("placement.per_label"),
                "must name an agent label, e.g. region".into(),
            ));
        }
        let (kind, target) = match (&w.perf, &w.eval) {
            (Some(p), None) => ("perf", &p.target),
            (None, Some(e)) => ("eval", &e.target),
            (Some(_), Some(_)) => return Err(bad(f("eval"), "give perf or eval, not both".into())),
            (None, None) => return Err(bad(f("perf"), "a workload needs perf or eval".into())),
        };
        if !names.contains(target.as_str()) {
            let known: Vec<_> = names.iter().copied().collect();
            let known = known.join(", ");
            let message = format!("unknown target {target:?} (known: {known})");
            return Err(bad(f(&format!("{kind}.target")), message));
        }
        if let Some(e) = &w.eval {
            check_eval(e, &|k: &str| f(k)).map_err(|(field, message)| bad(field, message))?;
        }
        let Some(p) = &w.perf else { continue };
        let trace = p.dataset.kind == swarm_common::trace::DATASET;
        let vl = swarm_common::dataset::vl::is_vl(&p.dataset.kind);
        if trace || vl {
            if p.multi_turn.is_some() {
                let m = format!("needs a multi-turn dataset, got {}", p.dataset.kind);
                return Err(bad(f("perf.multi_turn"), m));
            }
        } else {
            let kind = match p.dataset.kind.parse::<swarm_common::dataset::DatasetKind>() {
                Ok(kind) => kind,
                Err(e) => return Err(bad(f("perf.dataset.kind"), e.to_string())),
            };
            super::multi_turn::check(p, kind).map_err(|(k, m)| bad(f(k), m))?;
        }
        match p.dataset.speed {
            Some(_) if !trace => {
                let m = format!("is read by {} only", swarm_common::trace::DATASET);
                return Err(bad(f("perf.dataset.speed"), m));
            }
            Some(v) if !(v.is_finite() && v > 0.0) => {
                return Err(bad(
                    f("perf.dataset.speed"),
                    format!("must be > 0, got {v}"),
                ));
            }
            _ => {}
        }
        if let Some(policy) = &p.dataset.on_bad_line
            && !matches!(policy.as_str(), "skip" | "fail")
        {
            return Err(bad(
                f("perf.dataset.on_bad_line"),
                format!("must be skip or fail, got {policy:?}"),
            ));
        }
        if p.stages.is_empty() {
            return Err(bad(
                f("perf.stages"),
                "a perf workload needs at least one stage".into(),
            ));
        }
        check_label_targets(w, p, &names).map_err(|(k, m)| bad(f(k), m))?;
        swarm_common::metrics::evalscope::checked_extra_percentiles(&p.percentiles)
            .map_err(|m| bad(f("perf.percentiles"), m))?;
        if p.sla.is_some() {
            // the first stage is only where the search starts; each probe sizes itself
            super::build::sla_plan(p).map_err(|e| bad(f("perf.sla"), format!("{e:#}")))?;
            continue;
        }
        for (j, s) in p.stages.iter().enumerate() {
            if trace {
                break; // the trace bounds and splits its own replay
            }
            let g = |k: &str| format!("workloads[{i}].perf.stages[{j}].{k}");
            let spec = super::build::stage_spec(s).map_err(|(k, m)| bad(g(k), m))?;
            if let (Some(n), Placement::Split) = (known_agents, &w.placement) {
                let weights = vec![1; n as usize];
                split_stage(&spec.load, spec.number, &weights).map_err(|e| {
                    let field = match e {
                        SplitError::TooFewRequests { .. } => "number",
                        SplitError::BadRate(_) => "rate",
                        _ => "parallel",
                    };
                    bad(g(field), format!("{e} (agents.local_agents is {n})"))
                })?;
            }
        }
    }
    Ok(())
}

/// `perf.label_targets`: each label value's own target, which only a per-label SLA search can
/// use (a sweep's stage runs one target on every group; a split has no label values).
fn check_label_targets(
    w: &super::model::WorkloadDef,
    p: &super::model::PerfDef,
    names: &BTreeSet<&str>,
) -> Result<(), (&'static str, String)> {
    if p.label_targets.is_empty() {
        return Ok(());
    }
    let field = "perf.label_targets";
    if !matches!(w.placement, Placement::PerLabel(_)) {
        let m =
            "needs placement: {per_label: KEY} (each label value's agents measure its own target)";
        return Err((field, m.into()));
    }
    if p.sla.is_none() {
        let m = "needs perf.sla: each label value runs its own SLA search against its target; the stages of a sweep run one target on every group";
        return Err((field, m.into()));
    }
    for (value, target) in &p.label_targets {
        if !names.contains(target.as_str()) {
            let known: Vec<_> = names.iter().copied().collect();
            let known = known.join(", ");
            return Err((
                field,
                format!("{value}: unknown target {target:?} (known: {known})"),
            ));
        }
    }
    Ok(())
}

/// The `agents:` and `coordinator:` sections.
fn check_topology(plan: &Plan, bad: &dyn Fn(String, String) -> PlanError) -> Result<(), PlanError> {
    let positive = |field: &str, v: f64| {
        if v > 0.0 && std::time::Duration::try_from_secs_f64(v).is_ok() {
            Ok(())
        } else {
            Err(bad(
                field.into(),
                format!("must be a positive number of seconds, got {v}"),
            ))
        }
    };
    if let Some(a) = &plan.agents {
        positive("agents.wait_s", a.wait_s)?;
        positive("agents.heartbeat_timeout_s", a.heartbeat_timeout_s)?;
        if let Some(n) = a.local_agents
            && n > MAX_LOCAL_AGENTS
        {
            return Err(bad(
                "agents.local_agents".into(),
                format!("at most {MAX_LOCAL_AGENTS} in-process agents, got {n}"),
            ));
        }
        if a.selector.keys().any(|k| k.trim().is_empty()) {
            return Err(bad(
                "agents.selector".into(),
                "label names must not be empty".into(),
            ));
        }
    }
    let agents = plan.agents();
    if agents.local_agents == 0 && agents.min_agents == 0 {
        return Err(bad(
            "agents.local_agents".into(),
            "the plan has no agents: set local_agents or min_agents to at least 1".into(),
        ));
    }
    match &plan.coordinator {
        None if agents.min_agents > 0 => Err(bad(
            "coordinator".into(),
            format!(
                "required when agents.min_agents is {} (remote agents dial the coordinator's listen address)",
                agents.min_agents
            ),
        )),
        None => Ok(()),
        Some(c) => check_coordinator(c, bad),
    }
}

fn check_coordinator(
    c: &CoordinatorDef,
    bad: &dyn Fn(String, String) -> PlanError,
) -> Result<(), PlanError> {
    let Some(addr) = parse_listen(&c.listen) else {
        return Err(bad(
            "coordinator.listen".into(),
            format!(
                "expected an IP address and port such as 0.0.0.0:7070, got {:?}",
                c.listen
            ),
        ));
    };
    if c.token_env.is_some() && c.token_file.is_some() {
        return Err(bad(
            "coordinator.token_env".into(),
            "give token_env or token_file, not both".into(),
        ));
    }
    if let Some(tls) = &c.tls {
        match (&tls.cert, &tls.key) {
            (Some(_), None) => {
                return Err(bad(
                    "coordinator.tls.key".into(),
                    "required with tls.cert".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(bad(
                    "coordinator.tls.cert".into(),
                    "required with tls.key".into(),
                ));
            }
            (None, None) => {
                return Err(bad(
                    "coordinator.tls.cert".into(),
                    "tls needs cert and key".into(),
                ));
            }
            (Some(_), Some(_)) => {}
        }
    }
    if !addr.ip().is_loopback() && !c.insecure {
        if c.tls.is_none() {
            return Err(bad(
                "coordinator.tls".into(),
                format!(
                    "listen address {addr} is not loopback: give tls (cert and key), or set insecure: true to allow plaintext"
                ),
            ));
        }
        let has_credential = c.token_env.is_some()
            || c.token_file.is_some()
            || c.tls.as_ref().is_some_and(|t| t.client_ca.is_some());
        if !has_credential {
            return Err(bad(
                "coordinator.token_env".into(),
                format!(
                    "listen address {addr} is not loopback: agents need a credential (token_env, token_file or tls.client_ca), or set insecure: true"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks an eval workload (its target is known); errors are (field path, message).
fn check_eval(
    e: &super::model::EvalDef,
    f: &dyn Fn(&str) -> String,
) -> Result<(), (String, String)> {
    if e.datasets.is_empty() {
        return Err((f("eval.datasets"), "name at least one benchmark".into()));
    }
    let known = swarm_eval::registry::names();
    for (j, d) in e.datasets.iter().enumerate() {
        if !known.contains(&d.as_str()) {
            return Err((
                f(&format!("eval.datasets[{j}]")),
                format!("unknown benchmark {d:?} (known: {})", known.join(", ")),
            ));
        }
    }
    for k in e.dataset_args.keys() {
        if !swarm_eval::collection::dataset_args_key_allowed(&e.datasets, k) {
            return Err((
                f(&format!("eval.dataset_args.{k}")),
                format!("{k:?} is not in datasets (nor a benchmark of a listed data_collection)"),
            ));
        }
    }
    if e.eval_batch_size == 0 {
        return Err((f("eval.eval_batch_size"), "must be at least 1".into()));
    }
    if e.repeats == 0 {
        return Err((f("eval.repeats"), "must be at least 1".into()));
    }
    Ok(())
}
