//! Agent faults in a real distributed run: a coordinator process waits for three agent
//! processes (each dialling through its own cuttable loopback proxy) and runs one closed-loop
//! stage against llm-sim; one agent is killed, paused, cut off or restarted mid-stage. The
//! stage must still measure exactly its request budget, once.
//!
//! llm-sim runs in this process with its truth log on, so what the faulted agent had measured
//! can be told apart from what it reported: every request carries `x-request-id:
//! <shard>-<index>`, and the log says when the simulator received it and when it handed over its
//! last chunk.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use llm_sim::{Dist, SimConfig, TruthLog};
use tokio_util::sync::CancellationToken;

use super::procs::{Proc, free_port, run_plan, start_agent, summaries, wait_listening};
use super::proxy::Proxy;
use super::summary::Counts;
use super::{AgentLoss, Row};

/// Requests in the stage.
const N: u64 = 6000;
/// The plan's heartbeat timeout, seconds.
const HEARTBEAT_TIMEOUT_S: u64 = 2;

/// What happens to agent `a3`.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Kill,
    Pause,
    Cut,
    Restart,
}

impl Fault {
    fn injected(self) -> &'static str {
        match self {
            Fault::Kill => "kill -9 of 1 of 3 agents mid-stage",
            Fault::Pause => {
                "SIGSTOP of 1 of 3 agents for 6 s (3× the heartbeat timeout), then SIGCONT"
            }
            Fault::Cut => {
                "network cut between 1 of 3 agents and the coordinator for 6 s, then restored"
            }
            Fault::Restart => "kill -9 of 1 of 3 agents, restarted at once with the same id",
        }
    }
}

/// Runs every agent row under `dir`.
pub async fn run(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for (i, f) in [Fault::Kill, Fault::Pause, Fault::Cut, Fault::Restart]
        .into_iter()
        .enumerate()
    {
        let expected = format!(
            "stage completes; exactly {N} requests measured, none twice; the agent's unfinished budget re-assigned"
        );
        let row = match one(f, &dir.join(format!("agent-{i}"))).await {
            Ok(Ran {
                counts,
                events,
                code,
                loss,
            }) => {
                let whole = counts.total == N && counts.success + counts.failed == N;
                Row {
                    group: "agent",
                    injected: f.injected().to_owned(),
                    expected,
                    observed: format!("exit {code:?}; {}; events: {events}", counts.describe()),
                    lost: if counts.total >= N {
                        "nothing".to_owned()
                    } else {
                        format!("{} requests", N - counts.total)
                    },
                    agent_loss: Some(loss),
                    pass: whole && code == Some(0) && counts.failed == 0,
                }
            }
            Err(e) => Row::broken("agent", f.injected(), &expected, &e),
        };
        rows.push(row);
    }
    rows
}

/// What one scenario left behind.
struct Ran {
    counts: Counts,
    events: String,
    code: Option<i32>,
    loss: AgentLoss,
}

async fn one(fault: Fault, dir: &Path) -> anyhow::Result<Ran> {
    std::fs::create_dir_all(dir)?;
    let mut cfg = SimConfig::default();
    cfg.latency.ttft_ms = Dist::fixed(5.0);
    cfg.latency.itl_ms = Dist::fixed(2.0);
    cfg.output.default_max_tokens = 16;
    cfg.record_truth = true;
    let sim = llm_sim::start(
        cfg,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        CancellationToken::new(),
    )
    .await?;
    let url = sim.url();
    let port = free_port()?;
    let token = dir.join("token");
    std::fs::write(&token, "fault-matrix-token-0123456789abcdef")?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: fault-agents
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: {HEARTBEAT_TIMEOUT_S}}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {url}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: load
    perf:
      target: sim
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 32}}
      max_tokens: 16
      stages:
        - {{parallel: 12, number: {N}}}
outputs: {{dir: out}}
"#
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let mut proxies = Vec::new();
    let mut agents = Vec::new();
    for i in 1..=3 {
        let proxy = Proxy::start(port).await?;
        agents.push(agent(dir, proxy.port, i, &token)?);
        proxies.push(proxy);
    }
    // the stage starts once all three are in; strike when every agent has reported for a while
    tokio::time::sleep(Duration::from_secs(5)).await;
    let struck = Instant::now();
    match fault {
        Fault::Kill => agents[2].kill9(),
        Fault::Pause => {
            agents[2].signal("STOP")?;
            tokio::time::sleep(Duration::from_secs(3 * HEARTBEAT_TIMEOUT_S)).await;
            agents[2].signal("CONT")?;
        }
        Fault::Cut => {
            proxies[2].cut();
            tokio::time::sleep(Duration::from_secs(3 * HEARTBEAT_TIMEOUT_S)).await;
            proxies[2].restore();
        }
        Fault::Restart => {
            agents[2].kill9();
            agents[2] = agent(dir, proxies[2].port, 3, &token)?;
        }
    }
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    let files = summaries(&dir.join("out"));
    let summary = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    let counts = Counts::read(summary)?;
    let breakdown = read_breakdown(&summary.with_file_name("breakdown.json"));
    let events = breakdown_events(breakdown.as_ref());
    let loss = agent_loss(breakdown.as_ref(), &sim.truth, struck);
    sim.shutdown().await;
    Ok(Ran {
        counts,
        events,
        code,
        loss,
    })
}

/// The stage's event texts.
pub(super) fn event_texts(breakdown: Option<&serde_json::Value>) -> Vec<String> {
    breakdown
        .and_then(|v| v.get("events"))
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("what").and_then(serde_json::Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What the lost shard's events say: its id, what it had counted before the loss, the budget
/// re-assigned, and what it reported late and was discarded.
#[derive(Debug, Default, PartialEq, Eq)]
struct LossEvent {
    shard: String,
    counted: u64,
    reassigned: u64,
    discarded: u64,
}

/// Parses "shard S: N requests reported before the loss; re-assigned A to a1, B to a2" and
/// "shard S: agent X came back ...; its L late requests were discarded".
fn loss_event(texts: &[String]) -> Option<LossEvent> {
    let mut found: Option<LossEvent> = None;
    for t in texts {
        let Some(rest) = t.strip_prefix("shard ") else {
            continue;
        };
        let Some((shard, what)) = rest.split_once(": ") else {
            continue;
        };
        if let Some((n, tail)) = what.split_once(" requests reported before the loss; re-assigned ")
        {
            let reassigned = tail
                .split(", ")
                .filter_map(|p| p.split_whitespace().next()?.parse::<u64>().ok())
                .sum();
            found = Some(LossEvent {
                shard: shard.to_owned(),
                counted: n.parse().unwrap_or(0),
                reassigned,
                discarded: found.as_ref().map_or(0, |f| f.discarded),
            });
        } else if let Some(l) = what
            .split_once("; its ")
            .and_then(|(_, l)| l.split_whitespace().next())
            .and_then(|l| l.parse::<u64>().ok())
            && let Some(f) = found.as_mut()
            && f.shard == shard
        {
            f.discarded += l;
        }
    }
    found
}

/// Splits what the faulted agent did into what it measured and never reported, what was in
/// flight at the fault, and what the coordinator re-assigned.
fn agent_loss(
    breakdown: Option<&serde_json::Value>,
    truth: &TruthLog,
    struck: Instant,
) -> AgentLoss {
    let Some(ev) = loss_event(&event_texts(breakdown)) else {
        return AgentLoss::default();
    };
    // a complete answer hands over as many chunks as any other (every answer is 16 tokens)
    let entries: Vec<(String, llm_sim::TruthEntry)> = truth
        .ids()
        .into_iter()
        .filter_map(|id| truth.get(&id).map(|e| (id, e)))
        .collect();
    let full = entries
        .iter()
        .map(|(_, e)| e.chunk_sent.len())
        .max()
        .unwrap_or(0);
    let prefix = format!("{}-", ev.shard);
    let (mut served, mut in_flight) = (0u64, 0u64);
    for (id, e) in &entries {
        // measured requests only: warmups are `<shard>-w<index>`
        let Some(index) = id.strip_prefix(&prefix) else {
            continue;
        };
        if index.parse::<u64>().is_err() {
            continue;
        }
        let last = e.chunk_sent.last().copied();
        let complete = full > 0 && e.chunk_sent.len() == full;
        if complete {
            served += 1;
        }
        let done_before = complete && last.is_some_and(|l| l < struck);
        if e.received < struck && !done_before {
            in_flight += 1;
        }
    }
    AgentLoss {
        shard: ev.shard,
        served,
        counted: ev.counted,
        discarded: ev.discarded,
        in_flight,
        reassigned: ev.reassigned,
    }
}

fn agent(dir: &Path, port: u16, i: u32, token: &Path) -> anyhow::Result<Proc> {
    start_agent(dir, port, &format!("a{i}"), token)
}

pub(super) fn read_breakdown(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The stage's events, condensed ("a3 lost at 5.1 s; ...").
pub(super) fn breakdown_events(v: Option<&serde_json::Value>) -> String {
    let Some(v) = v else {
        return "no readable breakdown.json".to_owned();
    };
    let events: Vec<String> = v
        .get("events")
        .and_then(serde_json::Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| {
                    format!(
                        "{} at {:.1} s",
                        e.get("what")
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or("?"),
                        e.get("at_s")
                            .and_then(serde_json::Value::as_f64)
                            .unwrap_or(0.0)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if events.is_empty() {
        "none".to_owned()
    } else {
        events.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_events_are_read() {
        let texts = vec![
            "agent a3 lost (no heartbeat for 2s); shards load/p/2".to_owned(),
            "shard load/p/2: 337 requests reported before the loss; re-assigned 832 to a1, 831 to a2"
                .to_owned(),
            "shard load/p/2: agent a3 came back after the shard was re-assigned; its 41 late requests were discarded"
                .to_owned(),
        ];
        assert_eq!(
            loss_event(&texts),
            Some(LossEvent {
                shard: "load/p/2".into(),
                counted: 337,
                reassigned: 1663,
                discarded: 41,
            })
        );
        assert_eq!(loss_event(&texts[..1]), None);
    }
}
