//! Leasing eval samples to agents: each agent holds at most two batches; when one finishes it
//! gets the next (so slow agents take less); a lost agent's batches go back to the queue; every
//! (sample, repeat) is stored once. Who holds which batch, loss, silence, the rejoin wait,
//! attempts and the cancel grace are the scheduler core's (`crate::schedule`).

use std::collections::{HashMap, VecDeque};

use anyhow::Context;
use swarm_eval::Sample;
use swarm_eval::task::{EvalShardSpec, Prediction};
use swarm_proto::{Assign, ScoredSamples, agent_message::Msg, coordinator_message};
use tokio_util::sync::CancellationToken;

use super::store::{EvalStore, unscored};
use crate::cluster::{AgentInfo, Cluster};
use crate::outcome::{Exit, Failure};
use crate::schedule::{Holdings, Limits, Stop, Voice, Work, drive};

/// Batches in flight per agent.
const IN_FLIGHT: usize = 2;

/// What to run: one benchmark's pending items and how to send them.
pub struct LeasePlan<'a> {
    /// Run-unique prefix of shard ids.
    pub prefix: String,
    /// Template of every batch (items empty).
    pub template: EvalShardSpec,
    /// The run's `judge_strategy` (the template's judge carries it only when there is a judge:
    /// `rule` has none).
    pub judge_strategy: swarm_eval::judge::JudgeStrategy,
    /// Items still to predict.
    pub items: Vec<(Sample, u32)>,
    /// Samples per batch.
    pub batch: usize,
    /// Agents to lease to.
    pub agents: &'a [AgentInfo],
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
    /// Messages ignored: about a batch the sending session does not hold, or predictions for an
    /// item not in its batch.
    pub foreign: u64,
}

type Items = Vec<(Sample, u32)>;

/// One benchmark's leasing: the queue, who holds what, what was stored.
struct Leases<'a, 'p> {
    cluster: &'a mut Cluster,
    plan: &'a LeasePlan<'p>,
    /// Agents to lease to: the plan's, less the lost, with those who joined.
    live: Vec<AgentInfo>,
    bench: Box<dyn swarm_eval::Benchmark>,
    filters: swarm_eval::filters::FilterChain,
    queue: VecDeque<(Sample, u32)>,
    held: Holdings<Items>,
    /// Batches handed out so far (the last one's number).
    next: u64,
    /// Failed attempts per item, and how many an item gets.
    attempts: (HashMap<(String, u32), u32>, u32),
    stats: LeaseStats,
    store: &'a mut EvalStore,
    benchmark: String,
}

/// Runs the plan to completion (or cancellation), storing predictions in `store`, within the
/// scheduler's limits for the template's request timeout ([`Limits::for_request_timeout`]).
pub async fn run(
    cluster: &mut Cluster,
    plan: LeasePlan<'_>,
    store: &mut EvalStore,
    cancel: &CancellationToken,
) -> anyhow::Result<LeaseStats> {
    let limits = Limits::for_request_timeout(plan.template.target.total_timeout_s);
    let benchmark = plan.template.benchmark.clone();
    let mut l = Leases {
        // predictions of samples that run no code are scored here, whatever the agent says
        bench: swarm_eval::registry::benchmark(&benchmark)?,
        filters: swarm_eval::task::filters(&benchmark, &plan.template.args)?,
        queue: plan.items.iter().cloned().collect(),
        live: plan.agents.to_vec(),
        held: Holdings::new("batches"),
        next: 0,
        attempts: (HashMap::new(), limits.max_attempts),
        stats: LeaseStats::default(),
        cluster,
        plan: &plan,
        store,
        benchmark,
    };
    let ended = drive(&mut l, &limits, cancel).await?;
    match ended.stop {
        Some(Stop::Silent(why)) => Err(Failure::error(Exit::AgentsLost, why)),
        Some(Stop::Orphaned(why)) => {
            let left = l.queue.len() + l.held.out().map(|(_, _, i)| i.len()).sum::<usize>();
            let why = format!("{why}; {left} samples not generated");
            Err(Failure::error(Exit::AgentsLost, why))
        }
        Some(Stop::Unconfirmed(_)) | None => {
            l.stats.foreign += l.held.foreign();
            Ok(l.stats)
        }
    }
}

impl Work for Leases<'_, '_> {
    type Unit = Items;

    fn parts(&mut self) -> (&mut Cluster, &mut Holdings<Items>) {
        (self.cluster, &mut self.held)
    }

    fn top_up(&mut self, stopping: bool) -> anyhow::Result<()> {
        for a in self.live.clone() {
            self.top_up_agent(&a)?;
        }
        if self.held.is_empty() && !self.queue.is_empty() && !stopping {
            anyhow::bail!(
                "{} eval items left and no agent to run them",
                self.queue.len()
            );
        }
        Ok(())
    }

    fn on_lost(
        &mut self,
        (agent, session): (&str, u64),
        why: &str,
        lost: Vec<(String, Items)>,
        stopping: bool,
    ) -> anyhow::Result<()> {
        self.live
            .retain(|a| !(a.id == agent && a.session == session));
        if !lost.is_empty() {
            tracing::warn!(agent_id = %agent, reason = %why, batches = lost.len(), "agent lost: its eval batches go back to the queue");
        }
        for (_, items) in lost.into_iter().filter(|_| !stopping) {
            self.stats.released += 1;
            self.requeue(items)?;
        }
        Ok(())
    }

    /// A message from `agent`'s `session`: only the session holding a batch speaks for it.
    /// While stopping, a finished or failed batch is not re-queued.
    fn on_message(
        &mut self,
        agent: &str,
        session: u64,
        msg: Msg,
        stopping: bool,
    ) -> anyhow::Result<()> {
        let id = match &msg {
            Msg::Scored(s) => s.shard_id.clone(),
            Msg::Done(d) => d.shard_id.clone(),
            Msg::Failed(f) => f.shard_id.clone(),
            _ => return Ok(()),
        };
        if self.held.voice(&id, agent, session) != Voice::Holder {
            tracing::warn!(agent_id = %agent, shard = %id, "a message about a batch this session does not hold, ignored");
            return Ok(());
        }
        // a batch already re-leased: its late results are duplicates at best
        if self.held.held(&id).is_none() {
            return Ok(());
        }
        let back = match msg {
            Msg::Scored(s) => return self.on_scored(agent, s),
            Msg::Failed(f) => {
                tracing::warn!(shard = %f.shard_id, reason = %f.reason, "eval batch failed");
                self.stats.first_error.get_or_insert(f.reason);
                self.stats.released += 1;
                self.held.release(&id)
            }
            _ => self.held.release(&id),
        };
        match back {
            Some(items) if !stopping => self.requeue(items),
            _ => Ok(()),
        }
    }

    fn on_joined(&mut self, agent: AgentInfo) {
        self.live.push(agent);
    }

    fn on_cancel(&mut self) {
        self.queue.clear();
    }

    fn agents_left(&self) -> Option<usize> {
        Some(self.live.len())
    }
}

impl Leases<'_, '_> {
    /// Tops `a` up to its batches in flight; an agent's batches share its part of the batch
    /// size: requests in flight across all agents never pass `--eval-batch-size` (EvalScope's
    /// meaning of it).
    fn top_up_agent(&mut self, a: &AgentInfo) -> anyhow::Result<()> {
        let plan = self.plan;
        let per_agent = plan.template.concurrency.max(1);
        let in_flight = (per_agent as usize).clamp(1, IN_FLIGHT);
        let per_batch = (per_agent / in_flight as u32).max(1);
        while self.held.held_by(&a.id) < in_flight && !self.queue.is_empty() {
            let mut take = plan.batch.min(self.queue.len());
            self.next += 1;
            let shard_id = format!("{}/{}", plan.prefix, self.next);
            // the batch's Assign must fit in one message: fewer samples until it does
            let (items, spec_json) = loop {
                let items: Items = self.queue.iter().take(take).cloned().collect();
                let mut spec = plan.template.clone();
                spec.shard_id = shard_id.clone();
                spec.items = items.clone();
                spec.concurrency = per_batch;
                let spec_json = serde_json::to_vec(&spec).context("cannot encode an eval batch")?;
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
            let sent = self.cluster.registry.send(
                &a.id,
                coordinator_message::Msg::Assign(Assign {
                    shard_id: shard_id.clone(),
                    spec: Some(swarm_proto::assign::Spec::EvalJson(spec_json)),
                    start_at_unix_us: 0,
                    send_records: false,
                }),
            );
            if !sent {
                break;
            }
            self.queue.drain(..items.len());
            self.held.hold(&shard_id, &a.id, a.session, items);
        }
        Ok(())
    }

    /// Stores a held batch's predictions, filed where the lease says and only for its items.
    fn on_scored(&mut self, agent: &str, s: ScoredSamples) -> anyhow::Result<()> {
        let Some(items) = self.held.held(&s.shard_id) else {
            return Ok(());
        };
        let batch = swarm_common::lines::decode::<Prediction>(&s.jsonl);
        for bad in &batch.bad {
            tracing::warn!(agent_id = %agent, shard = %s.shard_id, line = bad.line, error = %bad.error, "bad prediction line from agent");
        }
        for mut p in batch.items {
            // where it is filed comes from the lease, never from the agent
            let leased = items
                .iter()
                .find(|(s, r)| s.id == p.sample_id && *r == p.repeat);
            let Some((sample, _)) = leased else {
                self.stats.foreign += 1;
                tracing::warn!(agent_id = %agent, shard = %s.shard_id, sample = %p.sample_id, "a prediction for an item not in the batch, ignored");
                continue;
            };
            p.benchmark = sample.benchmark.clone();
            p.subset = sample.subset.clone();
            if let Some(e) = &p.error {
                self.stats.first_error.get_or_insert_with(|| e.clone());
                continue; // retried when the batch ends
            }
            if !self.bench.runs_code_on(sample) {
                // the rule scored here, the judge's verdict (if the strategy wants one) as the
                // agent reports it: a prediction that lacks one is retried
                let rule = swarm_eval::task::score(
                    self.bench.as_ref(),
                    &self.filters,
                    sample,
                    &p.completion,
                );
                let policy = self.bench.scoring_policy();
                let kept = swarm_eval::task::keep_judgement(
                    &mut p,
                    self.plan.judge_strategy,
                    policy,
                    rule,
                );
                if kept.is_err() {
                    self.stats.foreign += 1;
                    tracing::warn!(agent_id = %agent, shard = %s.shard_id, sample = %p.sample_id, "a prediction without the judge verdict its strategy needs, ignored");
                    continue;
                }
            }
            if self.store.add(p, &sample.gold, &sample.messages)? {
                self.stats.stored += 1;
            } else {
                self.stats.duplicates += 1;
            }
        }
        Ok(())
    }

    /// Puts a finished or lost batch's unpredicted items back in the queue (or stores them as
    /// failed once their attempts run out).
    fn requeue(&mut self, items: Items) -> anyhow::Result<()> {
        for (sample, repeat) in items {
            if self.store.has(&self.benchmark, &sample.id, repeat) {
                continue;
            }
            let (tried, max) = &mut self.attempts;
            let n = tried.entry((sample.id.clone(), repeat)).or_insert(0);
            *n += 1;
            if *n < *max {
                self.queue.push_back((sample, repeat));
                continue;
            }
            self.stats.failed += 1;
            let failed = Prediction {
                error: Some(format!("no prediction after {} attempts", self.attempts.1)),
                ..unscored(&self.benchmark, &sample.subset, sample.id.clone(), repeat)
            };
            self.store.add(failed, &sample.gold, &sample.messages)?;
        }
        Ok(())
    }
}
