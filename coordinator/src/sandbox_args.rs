//! The flags that set what the code sandbox of a command's local agents may do.

use std::path::PathBuf;

use clap::Args;

/// `--allow-unisolated-code`, `--python`: what the code sandbox of this command's local agents
/// may do (a plan's `sandbox_config` can narrow it, never widen it).
#[derive(Debug, Clone, Default, Args)]
pub struct SandboxArgs {
    /// Let `sandbox_config.allow_unisolated` run model-written code without isolation on the
    /// local agents where none is available (off: such a spec is refused).
    #[arg(long)]
    pub allow_unisolated_code: bool,
    /// The Python interpreter of the local agents' code sandbox (a spec may not name another).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

impl SandboxArgs {
    /// The policy these flags give.
    pub fn policy(&self) -> swarm_sandbox::policy::SandboxPolicy {
        swarm_sandbox::policy::SandboxPolicy {
            allow_unisolated: self.allow_unisolated_code,
            python: self.python.as_ref().map(|p| p.display().to_string()),
            ..Default::default()
        }
    }
}
