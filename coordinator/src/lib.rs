//! The swarmbench coordinator: the command line, plans, perf sweeps with in-process agents,
//! result collection, the run store and reports. `main.rs` only parses flags, wires signals to
//! a cancellation token and calls [`run`].

pub mod certs;
pub mod cli;
pub mod cluster;
pub mod collection;
pub mod eval;
pub mod front;
pub mod gather;
pub mod live;
pub mod perf;
pub mod perf_cmd;
pub mod plan;
pub mod preflight;
pub mod run;
pub mod sandbox_args;
pub mod schedule;
pub mod think;
pub mod transport_args;

pub use swarm_app as app;
pub use swarm_report as report;
pub use swarm_store as run_store;
pub use swarm_store::outcome;

use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command};

/// Runs one command line to completion (or until `cancel`).
pub async fn run(cli: Cli, cancel: CancellationToken) -> anyhow::Result<()> {
    match cli.command {
        Command::Perf(args) => perf_cmd::run_perf(&args, &cancel).await.map(|_| ()),
        Command::Run(args) => run::run_plan(&args, &cancel).await.map(|_| ()),
        Command::Eval(args) => eval::run::run_eval(&args, &cancel).await.map(|_| ()),
        Command::Certs(args) => certs::run_certs(&args),
        Command::App(args) => app::run_app(&args, &cancel).await,
        Command::Collection(args) => collection::run(&args),
        Command::ThinkEval(args) => think::run::run_think_eval(&args).await,
        Command::Validate { plan, allow_env } => {
            let (p, _) = plan::load_plan(&plan, &allow_env)?;
            let stages: usize = p
                .workloads
                .iter()
                .filter_map(|w| w.perf.as_ref())
                .map(|p| p.stages.len())
                .sum();
            println!(
                "{}: ok (plan {:?}: {} target(s), {} workload(s), {stages} stage(s))",
                plan.display(),
                p.name,
                p.targets.len(),
                p.workloads.len()
            );
            Ok(())
        }
    }
}
