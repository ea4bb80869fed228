//! The rogue: a process speaking the agent protocol that, once assigned work, plays hostile
//! acts (foreign shard ids, unleased predictions, undecodable messages) beside two honest agents.

use std::path::Path;
use std::time::Duration;

use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{
    AgentMessage, Counters, Heartbeat, Hello, Hist, ScoredSamples, ShardProgress, Snapshot,
};

use crate::faults::grpc::{RawSender, RawSession};
use crate::faults::procs::{run_plan, start_agent, wait_listening};

use super::TOKEN;
use super::agent::{EVAL_RECORDS, EVAL_REPEATS};

fn hello(id: &str) -> AgentMessage {
    AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: id.to_owned(),
            capacity: 1,
            protocol: swarm_proto::PROTOCOL_VERSION,
            version: "hostile".to_owned(),
            ..Default::default()
        })),
    }
}

/// `shard` with its last path segment replaced by `i` (`load/p/2` → `load/p/<i>`).
fn sibling(shard: &str, i: usize) -> String {
    match shard.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{i}"),
        None => format!("{shard}/{i}"),
    }
}

/// A delta that would add 500 successful requests wherever it was applied.
fn inflating() -> Snapshot {
    Snapshot {
        hists: Vec::new(),
        counters: Some(Counters {
            total: 500,
            success: 500,
            ..Default::default()
        }),
    }
}

/// A prediction line claiming full marks.
fn prediction(sample_id: &str, repeat: u32) -> Vec<u8> {
    let p = serde_json::json!({
        "benchmark": "gsm8k", "subset": "main", "sample_id": sample_id, "repeat": repeat,
        "completion": "The answer is \\boxed{999999}", "reasoning": "",
        "extracted": "999999",
        "score": {"extracted": "999999", "values": {"acc": 1.0}, "main": "acc"},
        "prompt_tokens": 1, "completion_tokens": 1, "reasoning_tokens": 0, "latency_us": 1
    });
    let mut line = p.to_string().into_bytes();
    line.push(b'\n');
    line
}

/// What the hostile agent sent.
#[derive(Debug, Default, Clone)]
pub(super) struct Sent {
    pub(super) foreign: u64,
    /// For a shard id no session holds.
    pub(super) unknown: u64,
    pub(super) unleased: u64,
    pub(super) undecodable: u64,
}

/// Joins as `rogue`, heartbeats, and on its first assignment plays what `on_assign` makes of
/// it; returns what it sent once the coordinator ends the call.
async fn rogue(
    port: u16,
    on_assign: fn(&swarm_proto::Assign) -> Vec<Step>,
) -> anyhow::Result<Sent> {
    let mut s = RawSession::open(port, TOKEN).await?;
    s.tx.send(&hello("rogue")).await?;
    let beat = s.tx.clone();
    let heart = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let hb = AgentMessage {
                msg: Some(Msg::Heartbeat(Heartbeat {
                    agent_unix_us: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_micros() as u64)
                        .unwrap_or(0),
                    shards_running: 1,
                })),
            };
            if beat.send(&hb).await.is_err() {
                break;
            }
        }
    });
    let mut sent = Sent::default();
    let mut acted = false;
    let mut refused = None;
    while let Some(m) = s.inbound.recv().await {
        match m.msg {
            Some(CMsg::Refused(r)) => {
                refused = Some(r.reason);
                break;
            }
            Some(CMsg::Assign(a)) if !acted => {
                acted = true;
                for step in on_assign(&a) {
                    play(&s.tx, step, &mut sent).await;
                }
            }
            _ => {}
        }
    }
    heart.abort();
    match refused {
        Some(reason) => anyhow::bail!("the rogue was refused: {reason}"),
        None => Ok(sent),
    }
}

/// One hostile act.
pub(super) enum Step {
    Foreign(AgentMessage),
    Unknown(AgentMessage),
    Unleased(AgentMessage),
    Undecodable(AgentMessage),
    Garbage(Vec<u8>),
    Pause(Duration),
}

async fn play(tx: &RawSender, step: Step, sent: &mut Sent) {
    let r = match step {
        Step::Foreign(m) => {
            sent.foreign += 1;
            tx.send(&m).await
        }
        Step::Unknown(m) => {
            sent.unknown += 1;
            tx.send(&m).await
        }
        Step::Unleased(m) => {
            sent.unleased += 1;
            tx.send(&m).await
        }
        Step::Undecodable(m) => {
            sent.undecodable += 1;
            tx.send(&m).await
        }
        Step::Garbage(b) => {
            sent.undecodable += 1;
            tx.send_raw(&b).await
        }
        Step::Pause(d) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
    };
    let _ = r;
}

/// Perf: deltas for the other agents' shards (and one no agent holds), predictions on a perf
/// shard, then a delta of its own whose histogram does not decode.
pub(super) fn perf_acts(a: &swarm_proto::Assign) -> Vec<Step> {
    let mut steps = Vec::new();
    for i in 0..3 {
        let other = sibling(&a.shard_id, i);
        if other != a.shard_id {
            steps.push(Step::Foreign(progress(&other, inflating())));
        }
    }
    steps.push(Step::Unknown(progress(
        &sibling(&a.shard_id, 97),
        inflating(),
    )));
    steps.push(Step::Unleased(AgentMessage {
        msg: Some(Msg::Scored(ScoredSamples {
            shard_id: a.shard_id.clone(),
            seq: 1,
            jsonl: prediction("main_0", 0),
        })),
    }));
    steps.push(Step::Pause(Duration::from_secs(1)));
    let mut bad = inflating();
    bad.counters = Some(Counters {
        total: 1,
        success: 1,
        ..Default::default()
    });
    bad.hists.push(Hist {
        metric: "latency".to_owned(),
        v2: b"\x1c\x84\x93\x03 not a histogram".to_vec(),
        high_outliers: 0,
        highest_outlier: 0,
    });
    steps.push(Step::Undecodable(progress(&a.shard_id, bad)));
    steps
}

fn progress(shard: &str, delta: Snapshot) -> AgentMessage {
    AgentMessage {
        msg: Some(Msg::Progress(ShardProgress {
            shard_id: shard.to_owned(),
            seq: 1,
            delta: Some(delta),
        })),
    }
}

/// Eval: predictions for items of its batch under another batch's id, predictions under its
/// own batch for items it was never leased (other repeats, a sample that does not exist), then
/// bytes that are no protobuf message at all.
pub(super) fn eval_acts(a: &swarm_proto::Assign) -> Vec<Step> {
    let Some(swarm_proto::assign::Spec::EvalJson(json)) = &a.spec else {
        return Vec::new();
    };
    let Ok(spec) = serde_json::from_slice::<swarm_eval::task::EvalShardSpec>(json) else {
        return Vec::new();
    };
    let held: std::collections::BTreeSet<(String, u32)> =
        spec.items.iter().map(|(s, r)| (s.id.clone(), *r)).collect();
    let mut leased = Vec::new();
    for (id, r) in &held {
        leased.extend(prediction(id, *r));
    }
    // items of the run this batch does not hold (every (sample, repeat) of the fixture but its
    // own: ids are `<subset>_<n>`), and a sample that does not exist
    let mut own = Vec::new();
    if let Some((id, _)) = held.iter().next()
        && let Some((prefix, _)) = id.rsplit_once('_')
    {
        for n in 0..EVAL_RECORDS {
            for r in 0..EVAL_REPEATS as u32 {
                let item = (format!("{prefix}_{n}"), r);
                if !held.contains(&item) {
                    own.extend(prediction(&item.0, item.1));
                }
            }
        }
        own.extend(prediction(&format!("{id}_stranger"), 0));
    }
    let mut steps = Vec::new();
    for i in 0..3 {
        let other = sibling(&a.shard_id, i);
        if other != a.shard_id {
            steps.push(Step::Foreign(AgentMessage {
                msg: Some(Msg::Scored(ScoredSamples {
                    shard_id: other,
                    seq: 1,
                    jsonl: leased.clone(),
                })),
            }));
        }
    }
    steps.push(Step::Unleased(AgentMessage {
        msg: Some(Msg::Scored(ScoredSamples {
            shard_id: a.shard_id.clone(),
            seq: 1,
            jsonl: own,
        })),
    }));
    steps.push(Step::Pause(Duration::from_millis(500)));
    // field 1 (hello) as a length-delimited field 2^35 bytes long: no decoder can read it
    steps.push(Step::Garbage(vec![
        0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01,
    ]));
    steps
}

/// Runs `plan` (its coordinator listening on `port`) with two honest agents and the rogue
/// playing `acts`; returns the coordinator's exit status and what the rogue sent. Every wait
/// has a deadline.
pub(super) async fn beside_two_agents(
    dir: &Path,
    port: u16,
    plan: &Path,
    acts: fn(&swarm_proto::Assign) -> Vec<Step>,
) -> anyhow::Result<(Option<i32>, Sent)> {
    let mut coord = run_plan(plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let token = dir.join("token");
    let _a1 = start_agent(dir, port, "a1", &token)?;
    let _a2 = start_agent(dir, port, "a2", &token)?;
    let rogue = tokio::spawn(rogue(port, acts));
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    let sent = match tokio::time::timeout(Duration::from_secs(5), rogue).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => anyhow::bail!("the rogue task failed: {e}"),
        Err(_) => anyhow::bail!("the rogue's call outlived the coordinator"),
    };
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    Ok((code, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_replace_the_last_segment() {
        assert_eq!(
            sibling("load/parallel_6_number_1200/2", 0),
            "load/parallel_6_number_1200/0"
        );
        assert_eq!(sibling("x", 1), "x/1");
    }
}
