//! A stage's `breakdown.json`: per agent, per placement label, per shard, its events, the
//! prompts each agent pulled and how it reached the target; per-label histograms beside it.

use std::collections::BTreeMap;
use std::path::Path;

use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::evalscope::{PerfSummary, StageLoad, summary};
use swarm_common::metrics::summary::RichSummary;
use swarm_proto::StopReason;

use super::job::StageSpec;
use super::shards::{Book, ShardStatus};
use super::stage::Group;
use crate::run_store::breakdown::{
    BREAKDOWN_JSON, Breakdown, Link as AgentLink, PromptTransfer, ShardEnd, ShardRow, SliceRow,
    StageEvent, Summaries,
};
use crate::run_store::stage_files::{label_dir_name, write_histograms, write_json};

/// One placement label's view: `key=value`, EvalScope's summary, ours.
pub type LabelView = (String, PerfSummary, RichSummary);

/// Writes the breakdown of `book` into `dir`; returns each placement label's view.
pub(super) fn write_breakdown(
    dir: &Path,
    set: &crate::cluster::PromptSet,
    stage: &StageSpec,
    groups: &[Group],
    book: &Book,
    events: &[StageEvent],
) -> anyhow::Result<Vec<LabelView>> {
    let load = StageLoad {
        concurrency: stage.load.concurrency(),
        rate: stage.load.rate(),
    };
    let entry = |agg: &StageAggregate| Summaries {
        evalscope: summary(agg, load),
        summary: RichSummary::of(agg),
    };
    let agents = book
        .per_agent
        .iter()
        .map(|(id, agg)| (id.clone(), entry(agg)));
    let agents = agents.collect();
    let mut labels = BTreeMap::new();
    let mut per_label = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let (Some(label), Some(agg)) = (&g.label, book.per_group.get(&gi)) {
            let hdir = dir.join("histograms/labels").join(label_dir_name(label));
            write_histograms(&hdir, agg)?;
            labels.insert(label.clone(), entry(agg));
            per_label.push((label.clone(), summary(agg, load), RichSummary::of(agg)));
        }
    }
    let mut prompts: BTreeMap<String, PromptTransfer> = Default::default();
    let mut connections: BTreeMap<String, AgentLink> = Default::default();
    for s in book.shards.values() {
        let t = prompts.entry(s.agent.clone()).or_default();
        if let Some(f) = s.fetched {
            t.received_bytes += f.bytes;
            t.received_prompts += f.prompts;
        }
        t.slice_bytes += set.slice_bytes(&s.spec.prompts);
        t.slice_prompts += s.spec.prompts.count;
        if let Some(l) = s.link {
            let a = connections.entry(s.agent.clone()).or_default();
            a.connections += l.connections;
            a.http = a.http.or(l.http);
        }
    }
    let shards = book
        .shards
        .values()
        .map(|s| ShardRow {
            shard: s.id.clone(),
            agent: s.agent.clone(),
            group: s.group,
            end: match &s.status {
                ShardStatus::Running => ShardEnd::Running,
                ShardStatus::Done(StopReason::Count) => ShardEnd::Count,
                ShardStatus::Done(StopReason::Duration) => ShardEnd::Duration,
                ShardStatus::Done(StopReason::Cancelled) => ShardEnd::Cancelled,
                ShardStatus::Done(StopReason::Unspecified) => ShardEnd::Unspecified,
                ShardStatus::Failed(r) => ShardEnd::Failed { reason: r.clone() },
                ShardStatus::Lost => ShardEnd::Lost,
            },
            planned: s.spec.number,
            reported: s.counters.total,
            start_skew_us: s.skew_us,
            prompts: SliceRow {
                start: s.spec.prompts.start,
                count: s.spec.prompts.count,
                bytes: set.slice_bytes(&s.spec.prompts),
            },
            fetched: s.fetched,
            link: s.link,
            ramp: s.spec.ramp.clone(),
        })
        .collect();
    let events = events.to_vec();
    let b = Breakdown {
        agents,
        labels,
        shards,
        events,
        prompts,
        connections,
    };
    write_json(&dir.join(BREAKDOWN_JSON), &b)?;
    Ok(per_label)
}
