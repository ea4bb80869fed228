//! The coordinator's book of a distributed stage: which shard runs where, what each reported
//! (applied once per sequence number), and the merged views: whole stage, per agent, per group.

use std::collections::{BTreeMap, HashSet};

use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::aggregate::{AggregateDelta, Counters, HistSettings};
use swarm_common::metrics::histogram::HistSpec;
use swarm_common::shard::PerfShardSpec;

/// Where a shard stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardStatus {
    /// Assigned and not finished.
    Running,
    /// Finished; how it stopped.
    Done(swarm_proto::StopReason),
    /// The agent could not run it.
    Failed(String),
    /// Its agent was lost; what it had not done went elsewhere (or nowhere).
    Lost,
}

/// One shard.
#[derive(Debug)]
pub struct Shard {
    /// Shard id.
    pub id: String,
    /// The agent running it.
    pub agent: String,
    /// The agent session it was assigned in.
    pub session: u64,
    /// Its placement group.
    pub group: usize,
    /// What it was asked to do.
    pub spec: PerfShardSpec,
    /// What it reported so far (counters only: shard histograms live in the merged views).
    pub counters: Counters,
    /// Progress sequence numbers applied.
    pub applied: HashSet<u64>,
    /// Requests reported after the shard was declared lost (its budget went to other agents),
    /// discarded so they are not counted twice.
    pub late: u64,
    /// Record batch sequence numbers stored.
    pub record_batches: HashSet<u64>,
    /// Status.
    pub status: ShardStatus,
    /// Start skew the agent achieved, µs.
    pub skew_us: Option<i64>,
    /// What the agent pulled for this shard's prompts (reported in `ShardStarted`).
    pub fetched: Option<Fetched>,
    /// How its client reached the target (reported in `ShardDone`).
    pub link: Option<Link>,
}

pub use crate::run_store::breakdown::{Fetched, Link};

/// All shards of a stage and the merged views.
#[derive(Debug)]
pub struct Book {
    /// Shards by id, in assignment order.
    pub shards: BTreeMap<String, Shard>,
    /// The whole stage.
    pub whole: StageAggregate,
    /// Per agent id, histograms at 2 significant figures (1,000 agents must fit in memory).
    pub per_agent: BTreeMap<String, StageAggregate>,
    /// Per group.
    pub per_group: BTreeMap<usize, StageAggregate>,
    settings: HistSettings,
}

/// The same bounds at 2 significant figures (0.8 % bins): per-agent breakdowns.
fn coarse(s: HistSettings) -> HistSettings {
    let c = |h: HistSpec| HistSpec {
        sigfig: h.sigfig.min(2),
        ..h
    };
    HistSettings {
        duration_us: c(s.duration_us),
        tokens: c(s.tokens),
        rate_milli: c(s.rate_milli),
    }
}

impl Book {
    /// An empty book.
    pub fn new(settings: HistSettings) -> anyhow::Result<Self> {
        Ok(Self {
            shards: BTreeMap::new(),
            whole: StageAggregate::new(settings)?,
            per_agent: BTreeMap::new(),
            per_group: BTreeMap::new(),
            settings,
        })
    }

    /// Records a new assignment.
    pub fn add(
        &mut self,
        id: &str,
        agent: &str,
        session: u64,
        group: usize,
        spec: PerfShardSpec,
    ) -> anyhow::Result<()> {
        self.shards.insert(
            id.to_string(),
            Shard {
                id: id.to_string(),
                agent: agent.to_string(),
                session,
                group,
                spec,
                counters: Counters::default(),
                applied: HashSet::new(),
                late: 0,
                record_batches: HashSet::new(),
                status: ShardStatus::Running,
                skew_us: None,
                fetched: None,
                link: None,
            },
        );
        Ok(())
    }

    /// Applies a delta once; returns false for a duplicate, an unknown shard, or a shard
    /// already declared lost (what it did not report then was re-assigned: a paused or cut-off
    /// agent that comes back must not be counted twice).
    pub fn apply(
        &mut self,
        shard_id: &str,
        seq: u64,
        delta: &AggregateDelta,
    ) -> anyhow::Result<bool> {
        let Some(s) = self.shards.get_mut(shard_id) else {
            return Ok(false);
        };
        if !s.applied.insert(seq) {
            return Ok(false);
        }
        if s.status == ShardStatus::Lost {
            s.late += delta.counters.total;
            return Ok(false);
        }
        s.counters.merge(&delta.counters);
        self.whole.apply(delta);
        if !self.per_agent.contains_key(&s.agent) {
            self.per_agent
                .insert(s.agent.clone(), StageAggregate::new(coarse(self.settings))?);
        }
        if let Some(a) = self.per_agent.get_mut(&s.agent) {
            a.apply(delta);
        }
        if !self.per_group.contains_key(&s.group) {
            self.per_group
                .insert(s.group, StageAggregate::new(self.settings)?);
        }
        if let Some(g) = self.per_group.get_mut(&s.group) {
            g.apply(delta);
        }
        Ok(true)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use swarm_common::metrics::RequestRecord;

    fn delta(n: u64) -> AggregateDelta {
        let mut a = StageAggregate::new(HistSettings::default()).expect("valid");
        for i in 0..n {
            a.record(
                &RequestRecord {
                    id: i,
                    latency_us: 1000 + i,
                    ttft_us: Some(10),
                    completion_tokens: 2,
                    status: 200,
                    ..Default::default()
                },
                0,
            );
        }
        swarm_common::wire::delta_from_snapshot(
            &swarm_common::wire::to_snapshot(&a),
            HistSettings::default(),
        )
        .expect("decodes")
    }

    /// A minimal valid shard spec.
    pub(crate) fn spec() -> PerfShardSpec {
        serde_json::from_value(serde_json::json!({
            "shard_id": "s", "target": {"url": "http://127.0.0.1:1/v1/chat/completions", "api": "chat", "model": "m",
            "api_key": null, "headers": [], "connect_timeout_s": 1.0, "read_timeout_s": 1.0, "total_timeout_s": 1.0},
            "gen_params": {"stream": true, "max_tokens": null, "min_tokens": null, "temperature": null, "top_p": null, "top_k": null, "extra": {}},
            "load": {"model": "closed", "concurrency": 1}, "number": 5, "duration_s": null, "warmup": 0,
            "prompts": {"set": "ab".repeat(32), "total": 1, "start": 0, "count": 1}, "seed": 1,
            "hist": {"duration_us": {"low": 1, "high": 3600000000u64, "sigfig": 3}, "tokens": {"low": 1, "high": 10000000, "sigfig": 3}, "rate_milli": {"low": 1, "high": 1000000000000u64, "sigfig": 3}},
            "tokenizer": null
        }))
        .expect("valid spec json")
    }

    #[test]
    fn a_resent_delta_is_counted_once() {
        let mut b = Book::new(HistSettings::default()).expect("book");
        b.add("s0", "a", 1, 0, spec()).expect("add");
        b.add("s1", "b", 2, 1, spec()).expect("add");
        assert!(b.apply("s0", 1, &delta(3)).expect("apply"));
        assert!(
            !b.apply("s0", 1, &delta(3)).expect("apply"),
            "duplicate seq"
        );
        assert!(b.apply("s0", 2, &delta(2)).expect("apply"));
        assert!(b.apply("s1", 1, &delta(4)).expect("apply"));
        assert!(!b.apply("nope", 1, &delta(4)).expect("apply"));
        assert_eq!(b.whole.counters.total, 9);
        assert_eq!(b.per_agent["a"].counters.total, 5);
        assert_eq!(b.per_group[&1].counters.total, 4);
    }

    #[test]
    fn a_lost_shard_that_comes_back_is_not_counted_twice() {
        let mut b = Book::new(HistSettings::default()).expect("book");
        b.add("s0", "a", 1, 0, spec()).expect("add");
        assert!(b.apply("s0", 1, &delta(2)).expect("apply"));
        b.shards.get_mut("s0").expect("shard").status = ShardStatus::Lost;
        // the paused agent wakes up and reports what it did meanwhile: its budget was re-assigned
        assert!(!b.apply("s0", 2, &delta(3)).expect("apply"));
        assert_eq!(b.whole.counters.total, 2);
        assert_eq!(b.shards["s0"].late, 3);
        assert_eq!(b.per_agent["a"].counters.total, 2);
    }
}
