//! The one way `perf`, `eval` (and `--rescore`) and `run` go through a run folder: `run.json`
//! from the first moment, the command's body, its final status whatever happened, the report,
//! the sample index, the results line and the exit status; and, for `perf` and `eval`, their
//! in-process agents gathered and the target checked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::{AgentInfo, Cluster, ClusterConfig};
use crate::outcome::{Exit, Failure, exit_of};
use crate::run_store::record::{Recorder, RunKind};

/// How long in-process agents may take to join.
const LOCAL_JOIN: Duration = Duration::from_secs(30);

/// Runs `body` into `run_dir` as a command of `kind`: records it, then writes the report and the
/// sample index however it ended. Returns the folder, or the error its outcome says.
pub async fn run_into(
    run_dir: &Path,
    kind: RunKind,
    name: &str,
    cancel: &CancellationToken,
    body: impl AsyncFnOnce(&mut Recorder) -> anyhow::Result<(Exit, Vec<String>)>,
) -> anyhow::Result<PathBuf> {
    let mut recorder = Recorder::start(run_dir, kind, name)?;
    // the root of the run's trace (OTLP export): its stage spans are children
    let span = tracing::info_span!("run", run_id = %recorder.record.run_id, kind = ?kind, name);
    let ran = tracing::Instrument::instrument(body(&mut recorder), span).await;
    let (mut outcome, mut failures) = match &ran {
        Ok(r) => r.clone(),
        Err(_) => (Exit::Ok, Vec::new()),
    };
    if let Err(e) = &ran {
        outcome = outcome.worst(exit_of(e));
        failures.push(format!("{e:#}"));
    }
    let record = recorder.finish(outcome, failures, cancel.is_cancelled())?;
    crate::report::html::write_report_or_warn(run_dir);
    let dir = run_dir.to_path_buf();
    // a large run takes seconds to index: off the async threads
    let _ =
        tokio::task::spawn_blocking(move || crate::app::samples::write_index_or_warn(&dir)).await;
    println!("\nresults: {}", run_dir.display());
    ran?;
    match record.outcome {
        Some(Exit::Ok | Exit::Cancelled) | None => Ok(run_dir.to_path_buf()),
        Some(exit) => Err(Failure::error(exit, record.failures.join("\n"))),
    }
}

/// What `perf` and `eval` need from their in-process agents.
pub struct LocalAgents<'a> {
    /// How many.
    pub count: u32,
    /// What their code sandbox may do.
    pub sandbox: swarm_sandbox::policy::SandboxPolicy,
    /// The target to check first (None: `--no-test-connection`), and whether it streams.
    pub check: Option<(&'a swarm_common::shard::TargetSpec, bool)>,
}

/// Starts `local.count` in-process agents for run `run_id`, waits for all of them and checks
/// the target from the first; the cluster is shut down again when that fails.
pub async fn local_cluster(
    run_id: &str,
    local: LocalAgents<'_>,
    cancel: &CancellationToken,
) -> anyhow::Result<(Cluster, Vec<AgentInfo>)> {
    let mut config = ClusterConfig::local(run_id, local.count);
    config.sandbox = local.sandbox;
    let mut cluster = Cluster::start(config, cancel).await?;
    let joined = cluster
        .wait_for(local.count as usize, &Default::default(), LOCAL_JOIN)
        .await
        .map_err(|e| Failure::error(Exit::AgentsLost, format!("{e:#}")));
    let checked = match (joined, local.check) {
        (Ok(agents), Some((target, stream))) => match agents.first() {
            Some(first) => {
                crate::preflight::check(&mut cluster, std::slice::from_ref(first), target, stream)
                    .await
                    .map(|()| agents)
            }
            None => Ok(agents),
        },
        (joined, _) => joined,
    };
    match checked {
        Ok(agents) => Ok((cluster, agents)),
        Err(e) => {
            cluster.shutdown().await;
            Err(e)
        }
    }
}

/// The run id of a run folder (its name).
pub fn id_of(run_dir: &Path) -> &str {
    run_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}
