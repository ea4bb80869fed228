//! Agent faults in a real distributed run: a coordinator process waits for three agent
//! processes (each dialling through its own cuttable loopback proxy) and runs one closed-loop
//! stage against llm-sim; one agent is killed, paused, cut off or restarted mid-stage. The
//! stage must still measure exactly its request budget, once.

use std::path::Path;
use std::time::Duration;

use super::Row;
use super::procs::{Proc, free_port, run_plan, start_agent, start_sim, summaries, wait_listening};
use super::proxy::Proxy;
use super::summary::Counts;

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
            Ok((counts, events, code)) => {
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
                    pass: whole && code == Some(0) && counts.failed == 0,
                }
            }
            Err(e) => Row::broken("agent", f.injected(), &expected, &e),
        };
        rows.push(row);
    }
    rows
}

async fn one(fault: Fault, dir: &Path) -> anyhow::Result<(Counts, String, Option<i32>)> {
    std::fs::create_dir_all(dir)?;
    let (_sim, url) = start_sim(
        &["--ttft-ms", "5", "--itl-ms", "2", "--max-tokens", "16"],
        &dir.join("sim.log"),
    )?;
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
    let events = breakdown_events(&summary.with_file_name("breakdown.json"));
    Ok((counts, events, code))
}

fn agent(dir: &Path, port: u16, i: u32, token: &Path) -> anyhow::Result<Proc> {
    start_agent(dir, port, &format!("a{i}"), token)
}

/// The stage's events, condensed ("a3 lost at 5.1 s; ...").
fn breakdown_events(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        return "no breakdown.json".to_owned();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return "breakdown.json unreadable".to_owned();
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
