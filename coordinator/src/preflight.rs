//! The pre-flight check (EvalScope's connection test, from our agents): before a run, one tiny
//! request to each target from one agent of each placement group; the first failure ends the
//! command with exit status 3 and a line naming the URL, the agent and the cause.

use std::time::Duration;

use swarm_common::probe::ProbeSpec;
use swarm_common::shard::TargetSpec;
use swarm_proto::{Probe, ProbeOutcome, ProbeResult, agent_message, coordinator_message};
use tokio::time::Instant;

use crate::cluster::{AgentInfo, Cluster, ClusterEvent};
use crate::outcome::{Exit, Failure};

/// Longest a probe may take on the agent (the answer to one `max_tokens: 1` request).
pub fn probe_deadline(target: &TargetSpec) -> f64 {
    (target.connect_timeout_s + target.read_timeout_s)
        .min(target.total_timeout_s)
        .clamp(1.0, 120.0)
}

/// What a failed probe means, in one line.
pub fn explain(r: &ProbeResult, agent: &str) -> String {
    let outcome = ProbeOutcome::try_from(r.outcome).unwrap_or(ProbeOutcome::Unspecified);
    let what = match outcome {
        ProbeOutcome::Ok => "ok",
        ProbeOutcome::Refused => "connection refused",
        ProbeOutcome::Dns => "host name not found",
        ProbeOutcome::Tls => "TLS handshake failed",
        ProbeOutcome::Timeout => "no answer in time",
        ProbeOutcome::Unauthorized => "not authorized (check --api-key / --headers)",
        ProbeOutcome::NotFound => "404 not found (check the URL's path)",
        ProbeOutcome::ModelNotFound => "the model is not served there (check --model)",
        ProbeOutcome::HttpError => "error status",
        ProbeOutcome::BadResponse => "not an OpenAI-compatible answer",
        ProbeOutcome::Other | ProbeOutcome::Unspecified => "request failed",
    };
    let status = if r.http_status > 0 {
        format!(" (HTTP {})", r.http_status)
    } else {
        String::new()
    };
    let detail = if r.detail.is_empty() {
        String::new()
    } else {
        format!(": {}", r.detail)
    };
    format!(
        "pre-flight check failed: POST {} from agent {agent}: {what}{status}{detail} (--no-test-connection skips this check)",
        r.url
    )
}

/// Sends one probe of `target` (streaming as the run will: `stream`) from each of `agents` and
/// waits for every answer; Err([`Exit::Unreachable`]) on the first failure, or
/// [`Exit::AgentsLost`] when an agent goes away or stays silent past the deadline.
pub async fn check(
    cluster: &mut Cluster,
    agents: &[AgentInfo],
    target: &TargetSpec,
    stream: bool,
) -> anyhow::Result<()> {
    let spec = ProbeSpec {
        target: target.clone(),
        stream,
        deadline_s: probe_deadline(target),
    };
    let target_json = serde_json::to_vec(&spec)?;
    let mut waiting = std::collections::BTreeMap::new();
    for (i, a) in agents.iter().enumerate() {
        let probe_id = format!("probe-{i}");
        let sent = cluster.registry.send(
            &a.id,
            coordinator_message::Msg::Probe(Probe {
                probe_id: probe_id.clone(),
                target_json: target_json.clone(),
            }),
        );
        if !sent {
            return Err(Failure::error(
                Exit::AgentsLost,
                format!("pre-flight check: agent {} is gone", a.id),
            ));
        }
        waiting.insert(probe_id, a.id.clone());
    }
    let deadline = Instant::now() + Duration::from_secs_f64(spec.deadline_s + 10.0);
    while !waiting.is_empty() {
        let ev = tokio::select! {
            ev = cluster.events.recv() => ev,
            _ = tokio::time::sleep_until(deadline) => {
                let silent: Vec<&String> = waiting.values().collect();
                return Err(Failure::error(
                    Exit::AgentsLost,
                    format!("pre-flight check: no answer from agent(s) {silent:?} within {:.0} s", spec.deadline_s + 10.0),
                ));
            }
        };
        match ev {
            Some(ClusterEvent::Message { agent_id, msg, .. }) => {
                if let agent_message::Msg::ProbeResult(r) = *msg {
                    if waiting.get(&r.probe_id) != Some(&agent_id) {
                        continue;
                    }
                    waiting.remove(&r.probe_id);
                    if r.outcome != ProbeOutcome::Ok as i32 {
                        return Err(Failure::error(Exit::Unreachable, explain(&r, &agent_id)));
                    }
                    tracing::info!(agent_id, url = %r.url, elapsed_ms = r.elapsed_us / 1000, "pre-flight check passed");
                }
            }
            Some(ClusterEvent::Lost {
                agent_id, reason, ..
            }) if waiting.values().any(|a| *a == agent_id) => {
                return Err(Failure::error(
                    Exit::AgentsLost,
                    format!("pre-flight check: agent {agent_id} lost ({reason})"),
                ));
            }
            Some(_) => {}
            None => anyhow::bail!("cluster event channel closed"),
        }
    }
    Ok(())
}
