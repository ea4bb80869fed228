//! The plan's `agents:` and `coordinator:` sections with defaults resolved and paths made
//! relative to the plan: what the coordinator needs to gather agents before a run.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use swarm_common::shard::Secret;

use super::model::{CoordinatorDef, DEFAULT_HEARTBEAT_TIMEOUT_S, DEFAULT_WAIT_S, Plan};

/// Which agents run the plan, defaults resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentsConfig {
    /// In-process agents the coordinator starts.
    pub local_agents: u32,
    /// Remote agents to wait for before starting (0 = none).
    pub min_agents: u32,
    /// How long to wait for `min_agents`.
    pub wait: Duration,
    /// Labels an agent must all carry (equal values) to take part.
    pub selector: BTreeMap<String, String>,
    /// Silence after which an agent is lost.
    pub heartbeat_timeout: Duration,
}

impl AgentsConfig {
    /// The number of agents a run will have, when it is known before the run: only local agents
    /// and none awaited. None when remote agents are awaited (more than `min_agents` may join).
    pub fn known_count(&self) -> Option<u32> {
        (self.min_agents == 0).then_some(self.local_agents)
    }

    /// Whether an agent with `labels` matches the selector.
    pub fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector
            .iter()
            .all(|(k, v)| labels.get(k).is_some_and(|l| l == v))
    }
}

/// How remote agents prove who they are: a shared bearer token from the environment or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentToken {
    /// The named environment variable.
    Env(String),
    /// This file (already joined to the plan's folder); trailing whitespace is trimmed.
    File(PathBuf),
}

impl AgentToken {
    /// Reads the token.
    pub fn read(&self) -> anyhow::Result<Secret> {
        match self {
            AgentToken::Env(var) => std::env::var(var)
                .map(Secret)
                .with_context(|| format!("coordinator.token_env: {var} is not set")),
            AgentToken::File(path) => std::fs::read_to_string(path)
                .map(|t| Secret(t.trim_end().to_string()))
                .with_context(|| format!("coordinator.token_file: cannot read {}", path.display())),
        }
    }
}

/// TLS files of the listener, joined to the plan's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPaths {
    /// Server certificate chain (PEM).
    pub cert: PathBuf,
    /// Server private key (PEM).
    pub key: PathBuf,
    /// CA for agent client certificates (mutual TLS), if any.
    pub client_ca: Option<PathBuf>,
}

/// The coordinator's gRPC listener, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// The agents' shared token, if any.
    pub token: Option<AgentToken>,
    /// TLS, if any.
    pub tls: Option<TlsPaths>,
    /// Plaintext or unauthenticated agents allowed on a non-loopback address.
    pub insecure: bool,
}

/// `listen` as a socket address (IP and port).
pub(crate) fn parse_listen(listen: &str) -> Option<SocketAddr> {
    listen.parse().ok()
}

/// `s` seconds, or `default` when `s` is not a positive duration (only in unchecked plans).
fn seconds(s: f64, default: f64) -> Duration {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .unwrap_or_else(|| Duration::from_secs_f64(default))
}

impl Plan {
    /// The `agents:` section with defaults resolved (one local agent when there is none).
    pub fn agents(&self) -> AgentsConfig {
        match &self.agents {
            None => AgentsConfig {
                local_agents: 1,
                min_agents: 0,
                wait: Duration::from_secs_f64(DEFAULT_WAIT_S),
                selector: BTreeMap::new(),
                heartbeat_timeout: Duration::from_secs_f64(DEFAULT_HEARTBEAT_TIMEOUT_S),
            },
            Some(a) => AgentsConfig {
                local_agents: a
                    .local_agents
                    .unwrap_or(if a.min_agents == 0 { 1 } else { 0 }),
                min_agents: a.min_agents,
                wait: seconds(a.wait_s, DEFAULT_WAIT_S),
                selector: a.selector.clone(),
                heartbeat_timeout: seconds(a.heartbeat_timeout_s, DEFAULT_HEARTBEAT_TIMEOUT_S),
            },
        }
    }

    /// The gRPC listener for remote agents, with paths joined to `plan_dir`; None when the plan
    /// has no `coordinator:` section (local agents only, no listener).
    pub fn listener(&self, plan_dir: &Path) -> Option<ListenConfig> {
        self.coordinator
            .as_ref()
            .map(|c| listen_config(c, plan_dir))
    }
}

fn listen_config(c: &CoordinatorDef, plan_dir: &Path) -> ListenConfig {
    // a checked plan's address always parses; an unchecked one falls back to the default
    let listen = parse_listen(&c.listen).unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7070)));
    let token = match (&c.token_env, &c.token_file) {
        (Some(var), _) => Some(AgentToken::Env(var.clone())),
        (None, Some(file)) => Some(AgentToken::File(plan_dir.join(file))),
        (None, None) => None,
    };
    let tls = c.tls.as_ref().and_then(|t| match (&t.cert, &t.key) {
        (Some(cert), Some(key)) => Some(TlsPaths {
            cert: plan_dir.join(cert),
            key: plan_dir.join(key),
            client_ca: t.client_ca.as_ref().map(|ca| plan_dir.join(ca)),
        }),
        _ => None,
    });
    ListenConfig {
        listen,
        token,
        tls,
        insecure: c.insecure,
    }
}
