//! Reading a plan: environment substitution, YAML with field paths and line:column in errors,
//! then the checks serde cannot express.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::env::{EnvError, ProcessEnv, Vars, substitute};
use super::model::Plan;

/// A plan that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The plan file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `${VAR}` reference failed.
    #[error("{path}: {source}")]
    Env {
        /// The plan file.
        path: PathBuf,
        /// What failed.
        source: EnvError,
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

/// Reads and checks the plan at `path`.
pub fn load_plan(path: &Path) -> Result<Plan, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_plan(&text, path, &ProcessEnv)
}

/// Parses and checks plan `text` (`path` is only used in messages).
pub fn parse_plan(text: &str, path: &Path, vars: &dyn Vars) -> Result<Plan, PlanError> {
    let text = substitute(text, vars).map_err(|source| PlanError::Env {
        path: path.to_path_buf(),
        source,
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

fn check(plan: &Plan, path: &Path) -> Result<(), PlanError> {
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
    let mut workload_names = BTreeSet::new();
    for (i, w) in plan.workloads.iter().enumerate() {
        let f = |k: &str| format!("workloads[{i}].{k}");
        if !workload_names.insert(w.name.as_str()) {
            return Err(bad(
                f("name"),
                format!("duplicate workload name {:?}", w.name),
            ));
        }
        let p = &w.perf;
        if !names.contains(p.target.as_str()) {
            let known: Vec<_> = names.iter().copied().collect();
            return Err(bad(
                f("perf.target"),
                format!(
                    "unknown target {:?} (known: {})",
                    p.target,
                    known.join(", ")
                ),
            ));
        }
        if let Err(e) = p.dataset.kind.parse::<swarm_common::dataset::DatasetKind>() {
            return Err(bad(f("perf.dataset.kind"), e.to_string()));
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
        for (j, s) in p.stages.iter().enumerate() {
            let g = |k: &str| format!("workloads[{i}].perf.stages[{j}].{k}");
            super::build::stage_spec(s).map_err(|(k, m)| bad(g(k), m))?;
        }
    }
    Ok(())
}
