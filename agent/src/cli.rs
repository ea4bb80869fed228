//! The `agent` command line: flags → [`AgentConfig`] → [`run_agent`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use crate::session::{AgentConfig, Backoff, FileAccess, run_agent};
use crate::transport::ClientTls;

/// Serve a swarmbench coordinator: dial in, run the shards it assigns, stream the results back.
#[derive(Debug, Clone, Parser)]
#[command(name = "agent", version)]
pub struct AgentArgs {
    /// Coordinator URL: http://host:port (loopback, or with --insecure) or https://host:port.
    #[arg(long, env = "SWARM_COORDINATOR")]
    pub coordinator: String,
    /// Agent id, unique among the coordinator's agents (default: <hostname>-<pid>).
    #[arg(long)]
    pub id: Option<String>,
    /// A label the coordinator can place shards by, as key=value (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// Relative weight of this agent when load is split (>= 1).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub capacity: u32,
    /// File holding the bearer token for the coordinator.
    #[arg(long, value_name = "FILE", conflicts_with = "token_env")]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding the bearer token for the coordinator.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// PEM file of the CA that signed the coordinator's certificate (default: system roots).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate for mTLS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the client certificate (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Name to verify the coordinator's certificate against, when it is not the URL's host.
    #[arg(long, value_name = "NAME")]
    pub tls_domain: Option<String>,
    /// Allow plaintext http:// to a coordinator that is not on this machine.
    #[arg(long)]
    pub insecure: bool,
    /// The only directory whose files a shard may make this agent read (tokenizer.json files,
    /// by path relative to it). Without it the agent reads no files a plan names.
    #[arg(long, value_name = "DIR", env = "SWARM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Let a run's `sandbox_config.allow_unisolated` run model-written code without isolation
    /// where none is available (off: such a spec is refused, whatever the coordinator says).
    #[arg(long)]
    pub allow_unisolated_code: bool,
    /// The Python interpreter of this agent's code sandbox (a spec may not name another).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Exit with an error when no session with the coordinator could be opened for this many
    /// seconds (since start, or since the last session ended); 0 = keep trying.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub give_up_after: u64,
    /// After the coordinator drains this agent at the end of a run, reconnect and wait for the
    /// next run instead of exiting (long-lived agent pools).
    #[arg(long)]
    pub stay: bool,
    /// Export traces over OTLP/gRPC to this collector (builds with the `otlp` feature).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("label {s:?} is not key=value")),
    }
}

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {what} {}", path.display()))
}

fn default_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "agent".to_string());
    format!("{host}-{}", std::process::id())
}

impl AgentArgs {
    /// The config these flags describe; reads the token and PEM files.
    pub fn to_config(&self) -> anyhow::Result<AgentConfig> {
        let token = if let Some(f) = &self.token_file {
            let raw = std::fs::read_to_string(f)
                .with_context(|| format!("reading token file {}", f.display()))?;
            let t = raw.trim().to_string();
            anyhow::ensure!(!t.is_empty(), "token file {} is empty", f.display());
            Some(t)
        } else if let Some(var) = &self.token_env {
            let t = std::env::var(var)
                .with_context(|| format!("reading token from environment variable {var}"))?;
            let t = t.trim().to_string();
            anyhow::ensure!(!t.is_empty(), "environment variable {var} is empty");
            Some(t)
        } else {
            None
        };
        let any_tls = self.tls_ca.is_some()
            || self.tls_cert.is_some()
            || self.tls_key.is_some()
            || self.tls_domain.is_some();
        let tls = if any_tls {
            Some(ClientTls {
                ca_pem: match &self.tls_ca {
                    Some(p) => read(p, "tls ca")?,
                    None => Vec::new(),
                },
                cert_pem: self
                    .tls_cert
                    .as_deref()
                    .map(|p| read(p, "tls certificate"))
                    .transpose()?,
                key_pem: self
                    .tls_key
                    .as_deref()
                    .map(|p| read(p, "tls key"))
                    .transpose()?,
                domain: self.tls_domain.clone(),
            })
        } else {
            None
        };
        let mut labels = BTreeMap::new();
        for (k, v) in &self.labels {
            if labels.insert(k.clone(), v.clone()).is_some() {
                anyhow::bail!("label {k} given more than once");
            }
        }
        Ok(AgentConfig {
            prompt_cache: Default::default(),
            sandbox: swarm_sandbox::policy::SandboxPolicy {
                allow_unisolated: self.allow_unisolated_code,
                python: self.python.as_ref().map(|p| p.display().to_string()),
                hidden_paths: [&self.token_file, &self.tls_key, &self.tls_cert]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect(),
            },
            coordinator: self.coordinator.clone(),
            agent_id: self.id.clone().unwrap_or_else(default_id),
            labels,
            capacity: self.capacity,
            token,
            tls,
            insecure: self.insecure,
            reconnect: Backoff::default(),
            max_sessions: None,
            give_up_after: (self.give_up_after > 0)
                .then(|| std::time::Duration::from_secs(self.give_up_after)),
            stay: self.stay,
            files: match &self.data_dir {
                Some(dir) => {
                    if !dir.is_dir() {
                        anyhow::bail!("--data-dir {}: not a directory", dir.display());
                    }
                    FileAccess::Within(dir.clone())
                }
                None => FileAccess::Denied,
            },
        })
    }
}

/// Runs the agent these flags describe until the coordinator drains it or `cancel` fires.
pub async fn run(args: AgentArgs, cancel: CancellationToken) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    tracing::info!(agent_id = %cfg.agent_id, coordinator = %cfg.coordinator, capacity = cfg.capacity, "agent starting");
    run_agent(cfg, cancel).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_a_config() {
        let dir = std::env::temp_dir().join(format!("swarm-agent-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "  tok-123\n").unwrap();
        let args = AgentArgs::try_parse_from([
            "agent",
            "--coordinator",
            "http://127.0.0.1:7000",
            "--id",
            "a1",
            "--label",
            "region=eu-west",
            "--label",
            "zone=b",
            "--capacity",
            "4",
            "--token-file",
            token.to_str().unwrap(),
        ])
        .unwrap();
        let cfg = args.to_config().unwrap();
        assert_eq!(cfg.agent_id, "a1");
        assert_eq!(cfg.capacity, 4);
        assert_eq!(cfg.token.as_deref(), Some("tok-123"));
        assert_eq!(cfg.labels["region"], "eu-west");
        assert_eq!(cfg.labels.len(), 2);
        assert!(cfg.tls.is_none());
        assert!(!format!("{cfg:?}").contains("tok-123"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bad_flags_are_refused() {
        for bad in [
            vec!["agent", "--coordinator", "http://h:1", "--label", "novalue"],
            vec!["agent", "--coordinator", "http://h:1", "--capacity", "0"],
            vec![
                "agent",
                "--coordinator",
                "http://h:1",
                "--tls-cert",
                "c.pem",
            ],
            vec![
                "agent",
                "--coordinator",
                "http://h:1",
                "--token-file",
                "f",
                "--token-env",
                "V",
            ],
        ] {
            assert!(AgentArgs::try_parse_from(&bad).is_err(), "{bad:?}");
        }
        let args = AgentArgs::try_parse_from([
            "agent",
            "--coordinator",
            "http://h:1",
            "--label",
            "a=1",
            "--label",
            "a=2",
        ])
        .unwrap();
        let e = args.to_config().unwrap_err();
        assert!(e.to_string().contains("label a"), "{e}");
        let args = AgentArgs::try_parse_from([
            "agent",
            "--coordinator",
            "http://h:1",
            "--token-file",
            "/nonexistent/swarm-token",
        ])
        .unwrap();
        let e = args.to_config().unwrap_err();
        assert!(e.to_string().contains("/nonexistent/swarm-token"), "{e}");
        assert!(default_id().ends_with(&format!("-{}", std::process::id())));
    }
}
