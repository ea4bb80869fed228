//! The agent's side of the coordinator session: dial in, say Hello, run the shards the
//! coordinator assigns and stream their measurements back, reconnecting with backoff when the
//! stream breaks.
//!
//! One session is: `handshake` (dial, Hello, Welcome) → `dispatch` (heartbeats and clock
//! probes, Assign / Cancel / Drain, one `shard` runner per assignment) → close. A broken
//! session cancels its shards (the coordinator re-assigns their remaining budget) and the agent
//! dials again; a Drain or the caller's cancel ends the agent.

mod backoff;
mod clock;
mod dispatch;
mod error;
mod eval_judge;
mod eval_shard;
mod files;
mod handshake;
mod heartbeat;
mod outbox;
mod probe;
mod prompts;
mod record_batch;
mod shard;
mod trace_feed;

use std::collections::BTreeMap;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use backoff::Backoff;
pub use dispatch::SessionEnd;
pub use error::SessionError;
pub use eval_judge::EvalJudge;
pub use files::FileAccess;
pub use outbox::LinkDown;
pub use prompts::{FetchStats, PromptCache};
pub use shard::stop_name;

use crate::transport::{self, BearerAuth, ClientTls};

/// The protocol version this agent speaks (`Hello.protocol`).
pub const PROTOCOL_VERSION: u32 = swarm_proto::PROTOCOL_VERSION;

/// Everything an agent needs to serve a coordinator.
#[derive(Clone)]
pub struct AgentConfig {
    /// Coordinator URL: `http://host:port` (loopback, or with `insecure`) or `https://host:port`.
    pub coordinator: String,
    /// This agent's id, unique among the coordinator's agents.
    pub agent_id: String,
    /// Labels the coordinator may place shards by (e.g. `region=eu-west`).
    pub labels: BTreeMap<String, String>,
    /// Relative weight for splitting load (≥ 1).
    pub capacity: u32,
    /// Bearer token sent with the session call.
    pub token: Option<String>,
    /// TLS settings for an `https://` coordinator (None: system roots, no client certificate).
    pub tls: Option<ClientTls>,
    /// Allow plaintext `http://` to a host that is not loopback.
    pub insecure: bool,
    /// Delays between reconnects.
    pub reconnect: Backoff,
    /// Stop after this many sessions (connection attempts included); None = never.
    pub max_sessions: Option<u32>,
    /// Give up (an error) when no session could be opened for this long: since the start, or
    /// since the last session ended; None = keep trying.
    pub give_up_after: Option<std::time::Duration>,
    /// After the coordinator drains this agent, reconnect and wait for its next run instead of
    /// exiting (long-lived agent pools).
    pub stay: bool,
    /// Which files a shard spec may make this agent read (tokenizer files).
    pub files: FileAccess,
    /// Prompts pulled from the coordinator, kept across shards and sessions.
    pub prompt_cache: std::sync::Arc<PromptCache>,
    /// What this agent's own command line lets the code sandbox do (specs cannot widen it).
    pub sandbox: swarm_sandbox::policy::SandboxPolicy,
}

impl AgentConfig {
    /// A config with capacity 1, no labels, no token, no TLS settings and the default backoff.
    pub fn new(coordinator: impl Into<String>, agent_id: impl Into<String>) -> Self {
        Self {
            coordinator: coordinator.into(),
            agent_id: agent_id.into(),
            labels: BTreeMap::new(),
            capacity: 1,
            token: None,
            tls: None,
            insecure: false,
            reconnect: Backoff::default(),
            max_sessions: None,
            give_up_after: None,
            stay: false,
            files: FileAccess::Unrestricted,
            prompt_cache: Default::default(),
            sandbox: Default::default(),
        }
    }
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("coordinator", &self.coordinator)
            .field("agent_id", &self.agent_id)
            .field("labels", &self.labels)
            .field("capacity", &self.capacity)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("insecure", &self.insecure)
            .field("reconnect", &self.reconnect)
            .field("max_sessions", &self.max_sessions)
            .field("give_up_after", &self.give_up_after)
            .field("stay", &self.stay)
            .field("files", &self.files)
            .field("sandbox", &self.sandbox)
            .finish()
    }
}

/// Mistakes in an [`AgentConfig`] that no retry can fix.
fn check(cfg: &AgentConfig) -> anyhow::Result<()> {
    if cfg.agent_id.is_empty() {
        anyhow::bail!("agent id must not be empty");
    }
    if cfg.capacity == 0 {
        anyhow::bail!("agent {}: capacity must be at least 1, got 0", cfg.agent_id);
    }
    if cfg.reconnect.initial.is_zero() || cfg.reconnect.max < cfg.reconnect.initial {
        anyhow::bail!(
            "reconnect backoff must have 0 < initial <= max, got initial {:?} and max {:?}",
            cfg.reconnect.initial,
            cfg.reconnect.max
        );
    }
    transport::endpoint(&cfg.coordinator, cfg.tls.as_ref(), cfg.insecure)?;
    BearerAuth::new(cfg.token.as_deref())?;
    Ok(())
}

/// One session, from dial to close.
async fn session(
    cfg: &AgentConfig,
    cancel: &CancellationToken,
) -> Result<SessionEnd, SessionError> {
    let opened = tokio::select! {
        r = handshake::open(cfg) => r?,
        _ = cancel.cancelled() => return Ok(SessionEnd::Cancelled),
    };
    dispatch::serve(cfg, opened, cancel).await
}

/// Serves the coordinator at `cfg.coordinator` until it drains this agent (unless `cfg.stay`),
/// `cancel` fires, or `cfg.max_sessions` sessions have ended. Broken sessions are retried with
/// jittered exponential backoff (a refusal too, logged at error level). Returns an error for a
/// config that cannot work, the last session's error when `max_sessions` ran out, or when no
/// session could be opened for `cfg.give_up_after`.
pub async fn run_agent(cfg: AgentConfig, cancel: CancellationToken) -> anyhow::Result<()> {
    swarm_io::tls::install_crypto_provider();
    check(&cfg)?;
    let mut attempt = 0u32;
    let mut sessions = 0u32;
    // when this agent last had a session open (or started)
    let mut last_served = tokio::time::Instant::now();
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        sessions += 1;
        let span = tracing::info_span!(
            "session",
            agent_id = %cfg.agent_id,
            session = sessions,
            run_id = tracing::field::Empty
        );
        let err = match session(&cfg, &cancel).instrument(span).await {
            Ok(SessionEnd::Drained) if cfg.stay => {
                tracing::info!(agent_id = %cfg.agent_id, "drained by the coordinator; waiting for the next run");
                attempt = 0;
                last_served = tokio::time::Instant::now();
                None
            }
            Ok(SessionEnd::Drained) => {
                tracing::info!(agent_id = %cfg.agent_id, "drained by the coordinator; stopping");
                return Ok(());
            }
            Ok(SessionEnd::Cancelled) => {
                tracing::info!(agent_id = %cfg.agent_id, "stopped");
                return Ok(());
            }
            Err(e) => Some(e),
        };
        if let Some(err) = err {
            if err.after_welcome() {
                attempt = 0;
                last_served = tokio::time::Instant::now();
            }
            match &err {
                SessionError::Refused { reason } => {
                    tracing::error!(agent_id = %cfg.agent_id, %reason, "coordinator refused the session")
                }
                e => tracing::warn!(agent_id = %cfg.agent_id, error = %e, "session ended"),
            }
            if cfg.max_sessions.is_some_and(|max| sessions >= max) {
                let plural = if sessions == 1 { "" } else { "s" };
                return Err(anyhow::Error::new(err).context(format!(
                    "agent {}: stopped after {sessions} session{plural}",
                    cfg.agent_id
                )));
            }
            if let Some(limit) = cfg.give_up_after
                && last_served.elapsed() >= limit
            {
                return Err(anyhow::Error::new(err).context(format!(
                    "agent {}: no session with {} for {} s (--give-up-after); giving up",
                    cfg.agent_id,
                    swarm_common::redact::redact_url(&cfg.coordinator),
                    limit.as_secs()
                )));
            }
        }
        let delay = cfg.reconnect.jittered(attempt);
        attempt = attempt.saturating_add(1);
        tracing::info!(agent_id = %cfg.agent_id, delay_ms = delay.as_millis() as u64, "reconnecting");
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = cancel.cancelled() => return Ok(()),
        }
    }
}
