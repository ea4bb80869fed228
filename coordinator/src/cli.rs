//! The `coordinator` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::perf::args::PerfArgs;

/// swarmbench coordinator: plans runs, runs perf sweeps, merges and reports.
#[derive(Debug, Parser)]
#[command(
    name = "coordinator",
    version,
    about,
    after_help = "Exit status: 0 every stage ran and requests succeeded; 1 internal error; \
2 usage error (flag, plan, dataset); 3 target unreachable (pre-flight check); 4 a stage had no \
successful request (an eval no successful sample); 5 no agents joined or all were lost; \
99 a threshold failed; 130 cancelled."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Export traces over OTLP/gRPC to this collector (builds with the `otlp` feature).
    #[arg(long, global = true, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load-test an endpoint with EvalScope's perf flags.
    Perf(Box<PerfArgs>),
    /// Evaluate a model on capability benchmarks (EvalScope's eval flags).
    Eval(Box<crate::eval::args::EvalArgs>),
    /// Run a plan file (the bundled quickstart plan when none is given).
    Run(RunArgs),
    /// Check a plan file without running it.
    Validate {
        /// The plan file.
        plan: PathBuf,
        /// Let the plan read only these environment variables (`NAME`, `PREFIX_*`); repeatable.
        #[arg(long = "allow-env", value_name = "PATTERN")]
        allow_env: Vec<String>,
    },
    /// Write a CA, the coordinator's server certificate, agent client certificates and a bearer
    /// token for a distributed run over mutual TLS.
    Certs(crate::certs::CertsArgs),
    /// Serve the dashboard: runs, reports, eval samples, comparisons, live runs.
    App(crate::app::AppArgs),
    /// Build mixed benchmark collections (evaluate one with `eval --datasets data_collection`).
    Collection(crate::collection::CollectionArgs),
    /// Thinking efficiency of reasoning models' math runs, side by side (EvalScope's think-eval).
    ThinkEval(Box<crate::think::args::ThinkEvalArgs>),
}

/// `coordinator run` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// The plan file; without it, the bundled quickstart (llm-sim in-process, a short sweep).
    pub plan: Option<PathBuf>,
    /// Override the plan's outputs folder.
    #[arg(long)]
    pub outputs_dir: Option<PathBuf>,
    /// No progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Serve live run metrics for Prometheus on this address (`GET /metrics`), e.g. 0.0.0.0:9464.
    #[arg(long)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Continue this earlier run folder: eval workloads skip every sample that already has a
    /// prediction; perf workloads run again into the same folder.
    #[arg(long, conflicts_with = "run_dir")]
    pub resume: Option<PathBuf>,
    /// Write the run into exactly this folder; when it already holds a run of this plan (from
    /// an earlier start that was killed), continue it as --resume does. For restartable
    /// coordinators (a Kubernetes Job's retried pod on a persistent volume).
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Let the plan read only these environment variables (`NAME`, `PREFIX_*`), in `${VAR}`
    /// references, `api_key_env` and `token_env`; repeatable. Without it a plan may read any.
    /// For plans you did not write.
    #[arg(long = "allow-env", value_name = "PATTERN")]
    pub allow_env: Vec<String>,
    /// What the local agents' code sandbox may do.
    #[command(flatten)]
    pub sandbox: crate::sandbox_args::SandboxArgs,
}
