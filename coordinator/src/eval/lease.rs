//! Leasing eval samples to agents: each agent holds at most two batches; when one finishes it
//! gets the next (so slow agents take less); a lost agent's batches go back to the queue; every
//! (sample, repeat) is stored once.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use anyhow::Context;
use swarm_eval::Sample;
use swarm_eval::task::{EvalShardSpec, Prediction};
use swarm_proto::{Assign, Cancel, agent_message, coordinator_message};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::store::EvalStore;
use crate::cluster::{AgentInfo, Cluster, ClusterEvent};

/// Batches in flight per agent.
const IN_FLIGHT: usize = 2;
/// Attempts per item before it is stored as failed.
const MAX_ATTEMPTS: u32 = 3;

/// What to run: one benchmark's pending items and how to send them.
pub struct LeasePlan<'a> {
    /// Run-unique prefix of shard ids.
    pub prefix: String,
    /// Template of every batch (items empty).
    pub template: EvalShardSpec,
    /// Items still to predict.
    pub items: Vec<(Sample, u32)>,
    /// Samples per batch.
    pub batch: usize,
    /// Agents to lease to.
    pub agents: &'a [AgentInfo],
}

struct Lease {
    agent: String,
    session: u64,
    items: Vec<(Sample, u32)>,
}

/// Counts of what happened, for the report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LeaseStats {
    /// Predictions stored.
    pub stored: u64,
    /// Duplicates ignored.
    pub duplicates: u64,
    /// Batches re-leased after a loss or failure.
    pub released: u64,
    /// Items stored as failed after too many attempts.
    pub failed: u64,
    /// The first failure an agent reported (what a run whose every sample failed says).
    pub first_error: Option<String>,
    /// Predictions ignored: for a batch the sending session does not hold, or for an item not
    /// in its batch.
    pub foreign: u64,
}

/// How long an eval waits for an agent to come back once every agent is gone.
pub const REJOIN_WAIT: Duration = Duration::from_secs(60);

/// Runs the plan to completion (or cancellation), storing predictions in `store`.
pub async fn run(
    cluster: &mut Cluster,
    plan: LeasePlan<'_>,
    store: &mut EvalStore,
    cancel: &CancellationToken,
) -> anyhow::Result<LeaseStats> {
    // predictions of samples that run no code are scored here, whatever the agent says
    let bench = swarm_eval::registry::benchmark(&plan.template.benchmark)?;
    let filters = swarm_eval::task::filters(&plan.template.benchmark, &plan.template.args)?;
    let by_id: HashMap<String, Sample> = plan
        .items
        .iter()
        .map(|(s, _)| (s.id.clone(), s.clone()))
        .collect();
    let golds: HashMap<String, (String, Vec<serde_json::Value>)> = plan
        .items
        .iter()
        .map(|(s, _)| (s.id.clone(), (s.gold.clone(), s.messages.clone())))
        .collect();
    let mut queue: VecDeque<(Sample, u32)> = plan.items.into_iter().collect();
    let mut attempts: HashMap<(String, u32), u32> = HashMap::new();
    let mut leases: BTreeMap<String, Lease> = BTreeMap::new();
    let mut stats = LeaseStats::default();
    let mut next = 0u64;
    let mut live: Vec<AgentInfo> = plan.agents.to_vec();
    let mut last_event = Instant::now();
    let mut no_agents_since: Option<Instant> = None;
    // an agent's batches in flight share its part of the batch size: requests in flight across
    // all agents never pass `--eval-batch-size` (EvalScope's meaning of it)
    let per_agent = plan.template.concurrency.max(1);
    let in_flight = (per_agent as usize).clamp(1, IN_FLIGHT);
    let per_batch = (per_agent / in_flight as u32).max(1);
    let silence = Duration::from_secs_f64(plan.template.target.total_timeout_s.min(3600.0) + 60.0);
    loop {
        // top every live agent up to its batches in flight
        for a in &live {
            while leases.values().filter(|l| l.agent == a.id).count() < in_flight
                && !queue.is_empty()
            {
                let mut take = plan.batch.min(queue.len());
                next += 1;
                let shard_id = format!("{}/{next}", plan.prefix);
                // the batch's Assign must fit in one message: fewer samples until it does
                let (items, spec_json) = loop {
                    let items: Vec<_> = queue.iter().take(take).cloned().collect();
                    let mut spec = plan.template.clone();
                    spec.shard_id = shard_id.clone();
                    spec.items = items.clone();
                    spec.concurrency = per_batch;
                    let spec_json =
                        serde_json::to_vec(&spec).context("cannot encode an eval batch")?;
                    if spec_json.len() + 4096 <= swarm_proto::MAX_MESSAGE_BYTES {
                        break (items, spec_json);
                    }
                    if take == 1 {
                        anyhow::bail!(
                            "benchmark sample {} is {} bytes as JSON, more than one message to an agent may carry ({} bytes)",
                            items.first().map(|(s, _)| s.id.as_str()).unwrap_or("?"),
                            spec_json.len(),
                            swarm_proto::MAX_MESSAGE_BYTES
                        );
                    }
                    take = take.div_ceil(2);
                };
                queue.drain(..items.len());
                let sent = cluster.registry.send(
                    &a.id,
                    coordinator_message::Msg::Assign(Assign {
                        shard_id: shard_id.clone(),
                        spec: Some(swarm_proto::assign::Spec::EvalJson(spec_json)),
                        start_at_unix_us: 0,
                        send_records: false,
                    }),
                );
                if !sent {
                    queue.extend(items);
                    break;
                }
                leases.insert(
                    shard_id,
                    Lease {
                        agent: a.id.clone(),
                        session: a.session,
                        items,
                    },
                );
            }
        }
        if leases.is_empty() {
            if queue.is_empty() || cancel.is_cancelled() {
                break;
            }
            anyhow::bail!("{} eval items left and no agent to run them", queue.len());
        }
        tokio::select! {
            ev = cluster.events.recv() => {
                last_event = Instant::now();
                match ev {
                    Some(ClusterEvent::Message { msg, agent_id, session, .. }) => match *msg {
                        agent_message::Msg::Scored(s) => {
                            // only the session holding the batch speaks for it, and only for its items
                            let Some(lease) = leases.get(&s.shard_id) else {
                                continue; // a batch already re-leased: its late results are duplicates at best
                            };
                            if lease.agent != agent_id || lease.session != session {
                                stats.foreign += 1;
                                tracing::warn!(agent_id = %agent_id, shard = %s.shard_id, "predictions for a batch this session does not hold, ignored");
                                continue;
                            }
                            let leased: HashMap<(String, u32), (String, String)> = lease
                                .items
                                .iter()
                                .map(|(sample, r)| {
                                    ((sample.id.clone(), *r), (sample.benchmark.clone(), sample.subset.clone()))
                                })
                                .collect();
                            for (n, line) in s.jsonl.split(|&c| c == b'\n').enumerate() {
                                if line.iter().all(u8::is_ascii_whitespace) {
                                    continue;
                                }
                                let mut p: Prediction = match serde_json::from_slice(line) {
                                    Ok(p) => p,
                                    Err(e) => {
                                        tracing::warn!(shard = %s.shard_id, line = n + 1, error = %e, "bad prediction line from agent");
                                        continue;
                                    }
                                };
                                // where it is filed comes from the lease, never from the agent
                                let Some((benchmark, subset)) = leased.get(&(p.sample_id.clone(), p.repeat)) else {
                                    stats.foreign += 1;
                                    tracing::warn!(agent_id = %agent_id, shard = %s.shard_id, sample = %p.sample_id, "a prediction for an item not in the batch, ignored");
                                    continue;
                                };
                                p.benchmark = benchmark.clone();
                                p.subset = subset.clone();
                                if p.error.is_none()
                                    && let Some(sample) = by_id.get(&p.sample_id)
                                    && !bench.runs_code_on(sample)
                                {
                                    let (extracted, score) = swarm_eval::task::score(
                                        bench.as_ref(),
                                        &filters,
                                        sample,
                                        &p.completion,
                                    );
                                    p.extracted = extracted;
                                    p.score = score;
                                }
                                let (gold, messages) = golds.get(&p.sample_id).cloned().unwrap_or_default();
                                if let Some(e) = &p.error {
                                    if stats.first_error.is_none() {
                                        stats.first_error = Some(e.clone());
                                    }
                                    continue; // retried when the batch ends
                                }
                                if store.add(p, &gold, &messages)? { stats.stored += 1 } else { stats.duplicates += 1 }
                            }
                        }
                        agent_message::Msg::Done(d) => {
                            if let Some(l) = leases.remove(&d.shard_id) {
                                requeue(l, store, &mut queue, &mut attempts, &mut stats, &golds, &plan.template.benchmark)?;
                            }
                        }
                        agent_message::Msg::Failed(f) => {
                            tracing::warn!(shard = %f.shard_id, reason = %f.reason, "eval batch failed");
                            if stats.first_error.is_none() {
                                stats.first_error = Some(f.reason.clone());
                            }
                            if let Some(l) = leases.remove(&f.shard_id) {
                                stats.released += 1;
                                requeue(l, store, &mut queue, &mut attempts, &mut stats, &golds, &plan.template.benchmark)?;
                            }
                        }
                        _ => {}
                    },
                    Some(ClusterEvent::Lost { agent_id, session, reason }) => {
                        live.retain(|a| !(a.id == agent_id && a.session == session));
                        let lost: Vec<String> = leases.iter().filter(|(_, l)| l.agent == agent_id && l.session == session).map(|(k, _)| k.clone()).collect();
                        if !lost.is_empty() {
                            tracing::warn!(agent_id = %agent_id, %reason, batches = lost.len(), "agent lost: its eval batches go back to the queue");
                        }
                        for k in lost {
                            if let Some(l) = leases.remove(&k) {
                                stats.released += 1;
                                requeue(l, store, &mut queue, &mut attempts, &mut stats, &golds, &plan.template.benchmark)?;
                            }
                        }
                    }
                    Some(ClusterEvent::Joined(a)) => live.push(a),
                    None => anyhow::bail!("cluster event channel closed"),
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                if last_event.elapsed() > silence {
                    return Err(crate::outcome::Failure::error(
                        crate::outcome::Exit::AgentsLost,
                        format!("no word from any agent for {silence:?} with {} batches out", leases.len()),
                    ));
                }
                // every agent gone: wait a while for one to come back, not for the silence limit
                match (live.is_empty(), no_agents_since) {
                    (false, _) => no_agents_since = None,
                    (true, None) => no_agents_since = Some(Instant::now()),
                    (true, Some(t)) if t.elapsed() > REJOIN_WAIT => {
                        return Err(crate::outcome::Failure::error(
                            crate::outcome::Exit::AgentsLost,
                            format!(
                                "every agent was lost and none came back within {REJOIN_WAIT:?}; {} samples not generated",
                                queue.len() + leases.values().map(|l| l.items.len()).sum::<usize>()
                            ),
                        ));
                    }
                    (true, Some(_)) => {}
                }
            }
            _ = cancel.cancelled() => {
                for (id, l) in &leases {
                    cluster.registry.send(&l.agent, coordinator_message::Msg::Cancel(Cancel { shard_id: id.clone(), reason: "run cancelled".into() }));
                }
                queue.clear();
                // let the agents report what they finished, briefly
                let deadline = Instant::now() + Duration::from_secs(5);
                while !leases.is_empty() && Instant::now() < deadline {
                    match tokio::time::timeout_at(deadline, cluster.events.recv()).await {
                        Ok(Some(ClusterEvent::Message { msg, .. })) => {
                            if let agent_message::Msg::Scored(s) = *msg {
                                for line in s.jsonl.split(|&c| c == b'\n').filter(|l| !l.is_empty()) {
                                    if let Ok(p) = serde_json::from_slice::<Prediction>(line)
                                        && p.error.is_none()
                                    {
                                        let (gold, messages) = golds.get(&p.sample_id).cloned().unwrap_or_default();
                                        if store.add(p, &gold, &messages)? { stats.stored += 1 }
                                    }
                                }
                            } else if let agent_message::Msg::Done(d) = *msg {
                                leases.remove(&d.shard_id);
                            }
                        }
                        _ => break,
                    }
                }
                break;
            }
        }
    }
    Ok(stats)
}

/// Puts a finished or lost batch's unpredicted items back in the queue (or stores them as
/// failed after too many attempts).
fn requeue(
    l: Lease,
    store: &mut EvalStore,
    queue: &mut VecDeque<(Sample, u32)>,
    attempts: &mut HashMap<(String, u32), u32>,
    stats: &mut LeaseStats,
    golds: &HashMap<String, (String, Vec<serde_json::Value>)>,
    benchmark: &str,
) -> anyhow::Result<()> {
    for (sample, repeat) in l.items {
        if store.has(benchmark, &sample.id, repeat) {
            continue;
        }
        let n = attempts.entry((sample.id.clone(), repeat)).or_insert(0);
        *n += 1;
        if *n >= MAX_ATTEMPTS {
            stats.failed += 1;
            let (gold, messages) = golds.get(&sample.id).cloned().unwrap_or_default();
            let failed = Prediction {
                benchmark: benchmark.to_string(),
                subset: sample.subset.clone(),
                sample_id: sample.id.clone(),
                repeat,
                completion: String::new(),
                reasoning: String::new(),
                extracted: String::new(),
                score: swarm_eval::Score {
                    extracted: String::new(),
                    values: Default::default(),
                    main: String::new(),
                },
                prompt_tokens: 0,
                completion_tokens: 0,
                reasoning_tokens: 0,
                latency_us: 0,
                error: Some(format!("no prediction after {MAX_ATTEMPTS} attempts")),
            };
            store.add(failed, &gold, &messages)?;
        } else {
            queue.push_back((sample, repeat));
        }
    }
    Ok(())
}
