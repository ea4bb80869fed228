//! `run.json`: what made a run folder, whether it is still going, how it ended. Every command
//! that makes a run folder writes it when it starts (`running`) and again when it ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::layout::RUN_JSON;
use crate::outcome::Exit;

/// The version of the `run.json` format written here.
pub const RUN_FORMAT: u32 = 1;

/// Which command made a run folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    /// `coordinator perf`.
    Perf,
    /// `coordinator eval`.
    Eval,
    /// `coordinator run` of a plan.
    Plan,
    /// `coordinator eval --rescore`.
    Rescore,
    /// `coordinator think-eval`.
    ThinkEval,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started and not ended (or its process died: see [`RunRecord::updated_at`]).
    Running,
    /// Ended and every part produced a result.
    Done,
    /// Ended and something failed: `outcome` and `failures` say what.
    Failed,
    /// Stopped by the user before it finished; what was measured is kept.
    Cancelled,
}

/// One perf stage in `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageOverview {
    /// Stage name.
    pub stage: String,
    /// Why it stopped.
    pub stopped: String,
    /// Whether it produced a result.
    pub outcome: crate::stage_status::StageStatus,
    /// The thresholds checked against it.
    pub thresholds: Vec<crate::threshold::Checked>,
    /// EvalScope's summary.
    pub summary: swarm_common::metrics::evalscope::PerfSummary,
}

/// The whole of `run.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// [`RUN_FORMAT`].
    pub format: u32,
    /// The swarmbench version that wrote it.
    pub version: String,
    /// Which command made the folder.
    pub kind: RunKind,
    /// Where the run stands.
    pub status: RunStatus,
    /// The run id (folder name).
    pub run_id: String,
    /// The plan's name (the command's name for perf, eval, rescore and think-eval).
    pub plan: String,
    /// When it started, RFC 3339 UTC.
    pub started_at: String,
    /// When this file was last written, RFC 3339 UTC.
    pub updated_at: String,
    /// When it ended (None while running).
    pub ended_at: Option<String>,
    /// Whether the run was cancelled before it finished.
    pub cancelled: bool,
    /// How it ended: `ok`, or what the exit status says (None while running).
    pub outcome: Option<Exit>,
    /// What failed, one line each.
    pub failures: Vec<String>,
    /// Per perf workload, per stage: EvalScope's summary.
    pub workloads: BTreeMap<String, Vec<StageOverview>>,
    /// Eval workloads that ran (reports under `eval/<workload>/reports/`).
    pub evals: Vec<String>,
}

/// Now, RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Writes `run.json` over its life: `running` at the start, the final status at the end.
#[derive(Debug)]
pub struct Recorder {
    path: PathBuf,
    /// What is written.
    pub record: RunRecord,
}

impl Recorder {
    /// Creates `run_dir` and writes `run.json` with status `running`. When `run_dir` already
    /// holds one (a resumed run), its start time and results so far are kept.
    pub fn start(run_dir: &Path, kind: RunKind, plan: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(run_dir)
            .with_context(|| format!("cannot create {}", run_dir.display()))?;
        let run_id = run_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let now = now_rfc3339();
        let earlier = read(run_dir).ok().flatten();
        let mut record = RunRecord {
            format: RUN_FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind,
            status: RunStatus::Running,
            run_id,
            plan: plan.to_string(),
            started_at: now.clone(),
            updated_at: now,
            ended_at: None,
            cancelled: false,
            outcome: None,
            failures: Vec::new(),
            workloads: BTreeMap::new(),
            evals: Vec::new(),
        };
        if let Some(e) = earlier {
            record.started_at = e.started_at;
            record.workloads = e.workloads;
            record.evals = e.evals;
        }
        let r = Self {
            path: run_dir.join(RUN_JSON),
            record,
        };
        r.write()?;
        Ok(r)
    }

    fn write(&self) -> anyhow::Result<()> {
        super::stage_files::write_json_atomic(&self.path, &self.record)
    }

    /// Writes the final status: `cancelled` when `cancelled`, `done` when `outcome` is ok (or
    /// cancelled), `failed` otherwise.
    pub fn finish(
        mut self,
        outcome: Exit,
        failures: Vec<String>,
        cancelled: bool,
    ) -> anyhow::Result<RunRecord> {
        let now = now_rfc3339();
        let r = &mut self.record;
        r.cancelled = cancelled;
        r.outcome = Some(if cancelled { Exit::Cancelled } else { outcome });
        r.status = match r.outcome {
            Some(Exit::Cancelled) => RunStatus::Cancelled,
            Some(Exit::Ok) => RunStatus::Done,
            _ => RunStatus::Failed,
        };
        r.failures = failures;
        r.ended_at = Some(now.clone());
        r.updated_at = now;
        self.write()?;
        Ok(self.record)
    }

    /// Ends the run from a command's result: an error becomes its exit status and message.
    pub fn finish_with<T>(
        self,
        result: &anyhow::Result<T>,
        cancelled: bool,
    ) -> anyhow::Result<RunRecord> {
        match result {
            Ok(_) => self.finish(Exit::Ok, Vec::new(), cancelled),
            Err(e) => self.finish(
                crate::outcome::exit_of(e),
                vec![format!("{e:#}")],
                cancelled,
            ),
        }
    }
}

/// `run_dir`'s `run.json`: None when there is none, an error naming the file and field when it
/// cannot be read as one.
pub fn read(run_dir: &Path) -> anyhow::Result<Option<RunRecord>> {
    super::read::optional(&run_dir.join(RUN_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_running_then_ends_with_a_status() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("20261206_120000_x");
        let rec = Recorder::start(&run, RunKind::Perf, "perf").unwrap();
        let r = read(&run).unwrap().unwrap();
        assert_eq!(r.status, RunStatus::Running);
        assert_eq!(r.kind, RunKind::Perf);
        assert_eq!(r.run_id, "20261206_120000_x");
        assert!(r.ended_at.is_none() && r.outcome.is_none());
        rec.finish(Exit::NoSuccess, vec!["nothing succeeded".into()], false)
            .unwrap();
        let r = read(&run).unwrap().unwrap();
        assert_eq!(r.status, RunStatus::Failed);
        assert_eq!(r.outcome, Some(Exit::NoSuccess));
        assert!(r.ended_at.is_some());
        assert_eq!(r.failures, ["nothing succeeded"]);

        let again = Recorder::start(&run, RunKind::Perf, "perf").unwrap();
        assert_eq!(
            again.record.started_at, r.started_at,
            "a resumed run keeps its start"
        );
        let r = again.finish(Exit::Ok, Vec::new(), true).unwrap();
        assert_eq!(r.status, RunStatus::Cancelled);
        assert_eq!(r.outcome, Some(Exit::Cancelled));
    }

    #[test]
    fn a_malformed_run_json_is_an_error_naming_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(RUN_JSON),
            r#"{"format":1,"version":"x","kind":"sideways"}"#,
        )
        .unwrap();
        let e = format!("{:#}", read(dir.path()).unwrap_err());
        assert!(e.contains("run.json") && e.contains("kind"), "{e}");
        assert!(read(&dir.path().join("none")).unwrap().is_none());
    }
}
