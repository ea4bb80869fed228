//! A hostile agent: a process speaking the protocol to cheat (foreign shard ids, unleased
//! predictions) or to break the coordinator (undecodable messages).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use llm_sim::{Dist, SimConfig};
use tokio_util::sync::CancellationToken;

use crate::faults::Row;
use crate::faults::agents::{breakdown_events, event_texts, read_breakdown};
use crate::faults::procs::{files_under, free_port, summaries};
use crate::faults::summary::Counts;

use super::fresh;
use super::rogue::{Sent, beside_two_agents, eval_acts, perf_acts};

/// Requests of the hostile-agent perf stage.
const AGENT_N: u64 = 1200;
/// Records of the gsm8k fixture × repeats in the hostile-agent eval.
pub(super) const EVAL_RECORDS: usize = 20;
pub(super) const EVAL_REPEATS: usize = 2;

fn sim_config() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.latency.ttft_ms = Dist::fixed(5.0);
    cfg.latency.itl_ms = Dist::fixed(2.0);
    cfg.output.default_max_tokens = 16;
    cfg
}

pub(super) async fn start_sim() -> anyhow::Result<llm_sim::SimHandle> {
    llm_sim::start(
        sim_config(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        CancellationToken::new(),
    )
    .await
    .map_err(anyhow::Error::from)
}

pub(super) async fn perf_row(dir: &Path) -> Row {
    let injected = "agent: a process speaking the protocol sends deltas (+500 requests each) for the other agents' shards and one nobody holds, predictions on a perf shard, then an undecodable delta (histogram bytes that do not decode) for its own shard";
    let expected = format!(
        "stage completes with exactly {AGENT_N} requests, none twice; the foreign deltas ignored; the hostile agent dropped with an event and its budget re-assigned"
    );
    match agent_perf_one(dir).await {
        Ok((counts, events, texts, code, sent)) => {
            let whole = counts.total == AGENT_N && counts.success + counts.failed == AGENT_N;
            let said = |s: &str| texts.iter().any(|t| t.contains("rogue") && t.contains(s));
            let dropped = texts.iter().any(|t| {
                t.contains("agent rogue") && (t.contains("lost") || t.contains("cannot be merged"))
            });
            let reassigned = texts.iter().any(|t| t.contains("re-assigned"));
            Row {
                group: "hostile",
                injected: injected.to_owned(),
                expected,
                observed: format!(
                    "exit {code:?}; {}; sent {} deltas for other agents' shards, {} for a shard id nobody holds, {} predictions on a perf shard, {} undecodable delta; events: {events}",
                    counts.describe(),
                    sent.foreign,
                    sent.unknown,
                    sent.unleased,
                    sent.undecodable
                ),
                lost: if counts.total >= AGENT_N {
                    "nothing".to_owned()
                } else {
                    format!("{} requests", AGENT_N - counts.total)
                },
                agent_loss: None,
                pass: whole
                    && counts.failed == 0
                    && code == Some(0)
                    && sent.undecodable == 1
                    && said("ignored")
                    && dropped
                    && reassigned,
            }
        }
        Err(e) => Row::broken("hostile", injected, &expected, &e),
    }
}

type PerfOutcome = (Counts, String, Vec<String>, Option<i32>, Sent);

async fn agent_perf_one(dir: &Path) -> anyhow::Result<PerfOutcome> {
    fresh(dir)?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-agent
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: 2}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: load
    perf:
      target: sim
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 32}}
      max_tokens: 16
      stages:
        - {{parallel: 6, number: {AGENT_N}}}
outputs: {{dir: out}}
"#,
            sim.url()
        ),
    )?;
    let ran = beside_two_agents(dir, port, &plan, perf_acts).await;
    sim.shutdown().await;
    let (code, sent) = ran?;
    let files = summaries(&dir.join("out"));
    let summary = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    let counts = Counts::read(summary)?;
    let breakdown = read_breakdown(&summary.with_file_name("breakdown.json"));
    let texts = event_texts(breakdown.as_ref());
    Ok((
        counts,
        breakdown_events(breakdown.as_ref()),
        texts,
        code,
        sent,
    ))
}

pub(super) async fn eval_row(dir: &Path, gsm8k: &Path) -> Row {
    let injected = "agent: a process speaking the protocol, leased an eval batch, files full-mark predictions under other batches' ids and for items it was never leased (other repeats, a sample that does not exist), then sends bytes that are no protobuf message";
    let total = EVAL_RECORDS * EVAL_REPEATS;
    let expected = format!(
        "eval completes; each of the {total} (sample, repeat) stored once, none from the hostile agent; the hostile agent dropped (logged) and its batch leased again"
    );
    match agent_eval_one(dir, gsm8k).await {
        Ok(o) => {
            let pass = o.code == Some(0)
                && o.lines == total
                && o.distinct == total
                && o.rogue_lines == 0
                && o.dropped > 0
                && o.sent.undecodable == 1;
            Row {
                group: "hostile",
                injected: injected.to_owned(),
                expected,
                observed: format!(
                    "exit {:?}; {} prediction lines, {} distinct, {} from the hostile agent; sent {} messages of predictions under other batches' ids, {} under its own batch for items it was not leased, {} undecodable message; coordinator log: {} warnings of ignored predictions, {}",
                    o.code,
                    o.lines,
                    o.distinct,
                    o.rogue_lines,
                    o.sent.foreign,
                    o.sent.unleased,
                    o.sent.undecodable,
                    o.ignored,
                    if o.dropped > 0 {
                        format!("agent rogue lost ({})", o.drop_line)
                    } else {
                        "no loss of agent rogue".to_owned()
                    }
                ),
                lost: if o.distinct >= total {
                    "nothing".to_owned()
                } else {
                    format!("{} predictions", total - o.distinct)
                },
                agent_loss: None,
                pass,
            }
        }
        Err(e) => Row::broken("hostile", injected, &expected, &e),
    }
}

struct EvalOutcome {
    code: Option<i32>,
    lines: usize,
    distinct: usize,
    rogue_lines: usize,
    ignored: usize,
    dropped: usize,
    drop_line: String,
    sent: Sent,
}

pub(super) fn prediction_files(out: &Path) -> Vec<PathBuf> {
    files_under(out, |p| {
        p.components().any(|c| c.as_os_str() == "predictions")
            && p.extension().is_some_and(|x| x == "jsonl")
    })
}

async fn agent_eval_one(dir: &Path, gsm8k: &Path) -> anyhow::Result<EvalOutcome> {
    fresh(dir)?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-agent-eval
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: 2}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: math
    eval:
      target: sim
      datasets: [gsm8k]
      dataset_args:
        gsm8k: {{local_path: "{}"}}
      generation_config: {{max_tokens: 16}}
      eval_batch_size: 6
      repeats: {EVAL_REPEATS}
outputs: {{dir: out}}
"#,
            sim.url(),
            gsm8k.display()
        ),
    )?;
    let ran = beside_two_agents(dir, port, &plan, eval_acts).await;
    sim.shutdown().await;
    let (code, sent) = ran?;
    let mut lines = 0;
    let mut keys = std::collections::BTreeSet::new();
    let mut rogue_lines = 0;
    for f in prediction_files(&dir.join("out")) {
        let text = std::fs::read_to_string(&f)?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines += 1;
            if line.contains("999999") || line.contains("stranger") {
                rogue_lines += 1;
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let sw = &v["swarm"];
            keys.insert(format!("{}#{}", sw["sample_id"], sw["repeat"]));
        }
    }
    let log = std::fs::read_to_string(dir.join("coordinator.log")).unwrap_or_default();
    let rogue_log: Vec<&str> = log.lines().filter(|l| l.contains("rogue")).collect();
    let ignored = rogue_log.iter().filter(|l| l.contains("ignored")).count();
    let drops: Vec<&&str> = rogue_log
        .iter()
        .filter(|l| l.contains("lost") || l.contains("left") || l.contains("broke"))
        .collect();
    let drop_line = drops
        .first()
        .map(|l| {
            let msg = l.split_once(": ").map_or(**l, |(_, m)| m);
            msg.chars().take(200).collect::<String>()
        })
        .unwrap_or_default();
    Ok(EvalOutcome {
        code,
        lines,
        distinct: keys.len(),
        rogue_lines,
        ignored,
        dropped: drops.len(),
        drop_line,
        sent,
    })
}
