//! `coordinator collection build`: a mixed benchmark collection from a schema.

pub mod build;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use swarm_eval::collection::SamplerKind;

/// `coordinator collection` subcommands.
#[derive(Debug, Clone, Args)]
pub struct CollectionArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CollectionCommand,
}

/// What `coordinator collection` does.
#[derive(Debug, Clone, Subcommand)]
pub enum CollectionCommand {
    /// Sample a collection schema's datasets into one JSONL file (evaluate it with
    /// `--datasets data_collection`).
    Build(BuildArgs),
}

/// `coordinator collection build` flags.
#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// The schema (YAML or JSON): a named group of datasets and sub-groups with weights.
    pub schema: PathBuf,
    /// Where the collection JSONL goes.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// weighted (by schema weight), stratified (by dataset size) or uniform (equal per dataset).
    #[arg(long, default_value = "weighted")]
    pub sampler: SamplerKind,
    /// Samples in the collection (fewer when the data has fewer).
    #[arg(long, default_value_t = 100)]
    pub count: usize,
    /// Seed of the random draw.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Folder holding one data folder per benchmark (`<dir>/<benchmark>`), for datasets whose
    /// args give no local_path.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Runs a `coordinator collection` command.
pub fn run(args: &CollectionArgs) -> anyhow::Result<()> {
    match &args.command {
        CollectionCommand::Build(b) => build::run_build(b),
    }
}
