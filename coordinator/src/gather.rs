//! Gathering a run's agents: start the cluster the plan asks for (listener, TLS, token, local
//! agents), wait for the agents it needs, and group them by each workload's placement.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::cluster::{AgentInfo, Cluster, ClusterConfig, ServerTls};
use crate::perf::stage::Group;
use crate::plan::Plan;
use crate::plan::placement::Placement;

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .with_context(|| format!("coordinator.tls.{what}: cannot read {}", path.display()))
}

/// Starts the plan's cluster and waits for its agents; returns the cluster and the selected agents.
pub async fn gather(
    plan: &Plan,
    plan_dir: &Path,
    run_id: &str,
    run_dir: &Path,
    sandbox: &swarm_sandbox::policy::SandboxPolicy,
    cancel: &CancellationToken,
) -> anyhow::Result<(Cluster, Vec<AgentInfo>)> {
    let agents = plan.agents();
    let listener = plan.listener(plan_dir);
    let mut cfg = ClusterConfig::local(run_id, agents.local_agents);
    cfg.sandbox = sandbox.clone();
    // the local agents run in this process: code they sandbox must not read its secrets
    cfg.sandbox
        .hidden_paths
        .extend(secret_files(plan, plan_dir, run_dir));
    cfg.heartbeat_timeout = agents.heartbeat_timeout;
    if let Some(l) = &listener {
        cfg.listen = Some(l.listen);
        cfg.token = l.token.as_ref().map(|t| t.read()).transpose()?.map(|s| s.0);
        cfg.tls = match &l.tls {
            Some(t) => Some(ServerTls {
                cert_pem: read(&t.cert, "cert")?,
                key_pem: read(&t.key, "key")?,
                client_ca_pem: t
                    .client_ca
                    .as_ref()
                    .map(|p| read(p, "client_ca"))
                    .transpose()?,
            }),
            None => None,
        };
        // no credential given: agents still need one, unless the plan says `insecure: true`
        if cfg.token.is_none()
            && cfg.tls.as_ref().is_none_or(|t| t.client_ca_pem.is_none())
            && !l.insecure
        {
            let token = crate::cluster::server::random_token();
            let path = run_dir.join("agent-token");
            // only its owner can read it
            crate::certs::write_file(&path, token.as_bytes(), true)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "agents join with --token-file {} (a token made for this run: the plan names none)",
                path.display()
            );
            cfg.token = Some(token);
        }
    }
    let mut cluster = Cluster::start(cfg, cancel).await?;
    if let Some(addr) = cluster.public_addr {
        eprintln!(
            "waiting for {} agent(s) on {addr} (selector {:?}, up to {:?})",
            agents.min_agents, agents.selector, agents.wait
        );
    }
    let local = agents.local_agents as usize;
    cluster
        .wait_for(local, &BTreeMap::new(), Duration::from_secs(30))
        .await
        .context("local agents did not start")?;
    let local_selected = cluster
        .registry
        .agents()
        .iter()
        .filter(|a| a.matches(&agents.selector))
        .count();
    let want = local_selected + agents.min_agents as usize;
    let selected = cluster
        .wait_for(want.max(1), &agents.selector, agents.wait)
        .await?;
    Ok((cluster, selected))
}

/// The placement groups of a workload over `agents`.
pub fn groups(placement: &Placement, agents: &[AgentInfo]) -> anyhow::Result<Vec<Group>> {
    match placement {
        Placement::Split => Ok(vec![Group {
            label: None,
            agents: agents.to_vec(),
        }]),
        Placement::PerLabel(key) => {
            let mut by: BTreeMap<String, Vec<AgentInfo>> = BTreeMap::new();
            for a in agents {
                match a.labels.get(key) {
                    Some(v) => by.entry(v.clone()).or_default().push(a.clone()),
                    None => {
                        tracing::warn!(agent_id = %a.id, label = %key, "agent lacks the placement label; it sits this workload out")
                    }
                }
            }
            if by.is_empty() {
                anyhow::bail!("placement per_label {key}: no agent carries the label {key:?}");
            }
            Ok(by
                .into_iter()
                .map(|(v, agents)| Group {
                    label: Some(format!("{key}={v}")),
                    agents,
                })
                .collect())
        }
    }
}

/// The files holding this run's secrets: the plan's token file, TLS certificate and key, the
/// targets' API key files and the token made for this run (`agent-token`).
fn secret_files(plan: &Plan, plan_dir: &Path, run_dir: &Path) -> Vec<std::path::PathBuf> {
    let coordinator = plan.coordinator.as_ref();
    let tls = coordinator.and_then(|c| c.tls.as_ref());
    coordinator
        .and_then(|c| c.token_file.as_ref())
        .into_iter()
        .chain(tls.and_then(|t| t.key.as_ref()))
        .chain(tls.and_then(|t| t.cert.as_ref()))
        .chain(plan.targets.iter().filter_map(|t| t.api_key_file.as_ref()))
        .map(|p| plan_dir.join(p))
        .chain(std::iter::once(run_dir.join("agent-token")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_agents_sandbox_hides_every_secret_file_of_the_plan() {
        let yaml = r#"version: 1
name: secrets
agents: {local_agents: 1}
coordinator:
  listen: 127.0.0.1:0
  token_file: token.txt
  tls: {cert: tls/cert.pem, key: /etc/swarm/key.pem}
targets:
  - {name: a, url: "http://127.0.0.1:1/v1/chat/completions", model: m, api_key_file: keys/a.txt}
  - {name: b, url: "http://127.0.0.1:1/v1/chat/completions", model: m}
workloads:
  - name: w
    perf:
      target: a
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 4, max_prompt_length: 8}
      stages: [{parallel: 1, number: 1}]
"#;
        let vars = std::collections::HashMap::<String, String>::new();
        let plan = crate::plan::load::parse_plan(yaml, Path::new("plan.yaml"), &vars)
            .expect("plan parses");
        let hidden = secret_files(&plan, Path::new("/plans"), Path::new("/runs/r1"));
        let want: Vec<std::path::PathBuf> = [
            "/plans/token.txt",
            "/etc/swarm/key.pem",
            "/plans/tls/cert.pem",
            "/plans/keys/a.txt",
            "/runs/r1/agent-token",
        ]
        .iter()
        .map(std::path::PathBuf::from)
        .collect();
        assert_eq!(hidden, want);
    }
}
