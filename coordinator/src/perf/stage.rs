//! Runs one stage on the cluster: splits it over the agents of each placement group, assigns
//! the shards with a common start instant, merges what the agents stream back (exactly once per
//! sequence number), re-assigns what a lost agent did not do, and writes the stage's files —
//! also when the stage was cancelled, degraded or requests failed. Which session holds which
//! shard, loss, silence and cancel grace are the scheduler core's (`crate::schedule`). Local
//! runs take this same path with in-process agents.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use swarm_common::metrics::aggregate::AggregateDelta;
use swarm_common::metrics::evalscope::{PercentileRow, PerfSummary};
use swarm_common::metrics::summary::RichSummary;
use swarm_common::prompt_slice::PromptSlice;
use swarm_common::ramp::ShardRamp;
use swarm_common::schedule::LoadModel;
use swarm_common::split::split_stage;
use swarm_common::trace::TraceShare;
use swarm_proto::{Assign, agent_message::Msg, coordinator_message};
use tokio_util::sync::CancellationToken;

use super::breakdown::write_breakdown;
use super::job::{PerfJob, StageSpec};
use super::merge::{delta_of, link_of, records, shard_of, started};
use super::shards::{Book, ShardStatus};
use super::stage_live::StageLive;
use super::status::{link_line, stage_status, stop_reason};
use crate::cluster::service::now_unix_us;
use crate::cluster::{AgentInfo, Cluster};
use crate::run_store::sqlite::RecordWriter;
use crate::run_store::stage_files::write_stage_with;
use crate::schedule::{Holdings, Limits, Stop, Voice, Work, drive};

mod work;

pub use super::breakdown::LabelView;
pub use super::status::StageStatus;
pub use crate::run_store::breakdown::{PromptTransfer, StageEvent};

/// A placement group: agents that share one copy of the stage's load.
#[derive(Debug, Clone)]
pub struct Group {
    /// `key=value` for per-label placement, None for a plain split.
    pub label: Option<String>,
    /// The agents.
    pub agents: Vec<AgentInfo>,
}

/// A finished stage, as reported.
#[derive(Debug, Clone)]
pub struct StageResult {
    /// The stage.
    pub stage: StageSpec,
    /// EvalScope's summary.
    pub summary: PerfSummary,
    /// EvalScope's percentile rows.
    pub percentiles: Vec<PercentileRow>,
    /// The richer summary.
    pub rich: RichSummary,
    /// Why it stopped.
    pub stopped: String,
    /// Per placement label (`key=value`): EvalScope's summary and ours.
    pub per_label: Vec<LabelView>,
    /// Whether it produced a result.
    pub status: StageStatus,
    /// How it reached the target (`HTTP/1.1, 8 connections from 2 agents`), once answers came.
    pub link: Option<String>,
    /// The job's thresholds, checked against this stage.
    pub thresholds: Vec<super::threshold::Checked>,
    /// Why it was stopped early for errors (`--max-errors`, `--max-error-rate`), if it was.
    pub early_stop: Option<String>,
}

/// How a stage shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar on stderr (hidden when stderr is not a terminal).
    Bar,
    /// Nothing.
    Quiet,
}

struct Ctx<'a> {
    job: &'a PerfJob,
    stage: &'a StageSpec,
    groups: &'a [Group],
    cluster: &'a mut Cluster,
    live: StageLive<'a>,
    book: Book,
    /// Which session holds which running shard.
    held: Holdings<()>,
    writer: Option<RecordWriter>,
    events: Vec<StageEvent>,
    start_unix_us: u64,
    next_index: usize,
}

impl Ctx<'_> {
    fn note(&mut self, what: String) {
        let at_s = (now_unix_us() as f64 - self.start_unix_us as f64) / 1e6;
        tracing::info!(stage = %self.stage.name, "{what}");
        self.events.push(StageEvent { at_s, what });
    }

    /// The prompts a new shard sends: its warmup requests (the stage's first shard only) end
    /// just before prompt `first` (EvalScope sends warmups first, from prompt 0), then `distinct`
    /// measured prompts from `first`, wrapping at the end of the set.
    fn slice_for(&self, first: u64, distinct: u64) -> (PromptSlice, u32) {
        let warmup = if self.next_index == 0 {
            self.job.warmup
        } else {
            0
        };
        let (total, w) = (self.job.prompts.len().max(1) as u64, u64::from(warmup));
        let start = (first % total + total - w % total) % total;
        let slice = self.job.prompts.slice(start, w.saturating_add(distinct));
        (slice, warmup)
    }

    /// Assigns one shard to an agent; false if the agent is already gone. `first` and
    /// `distinct` choose its prompts (see [`Ctx::slice_for`]).
    #[allow(clippy::too_many_arguments)]
    fn assign(
        &mut self,
        agent: &AgentInfo,
        group: usize,
        load: LoadModel,
        number: Option<u64>,
        duration_s: Option<f64>,
        start_unix_us: u64,
        (first, distinct): (u64, u64),
        ramp: Option<ShardRamp>,
        trace: Option<TraceShare>,
    ) -> anyhow::Result<bool> {
        let (mut prompts, mut warmup) = self.slice_for(first, distinct);
        if trace.is_some() {
            // a replay's shard pulls its own lines of the whole set as it goes, no warmup
            prompts = self.job.prompts.slice(0, self.job.prompts.len() as u64);
            warmup = 0;
        }
        let i = self.next_index;
        self.next_index += 1;
        let shard_id = format!("{}/{}/{i}", self.job.name, self.stage.name);
        let mut spec = self.job.shard(self.stage, shard_id, prompts);
        spec.load = load;
        spec.number = number;
        spec.duration_s = duration_s;
        spec.ramp = ramp;
        spec.seed = self.job.seed.wrapping_add(i as u64);
        spec.warmup = warmup; // warm each agent's connections only once per stage
        spec.trace = trace;
        let spec_json = serde_json::to_vec(&spec).context("cannot encode shard spec")?;
        let id = spec.shard_id.clone();
        self.book.add(&id, &agent.id, agent.session, group, spec)?;
        let sent = self.cluster.registry.send(
            &agent.id,
            coordinator_message::Msg::Assign(Assign {
                shard_id: id.clone(),
                spec: Some(swarm_proto::assign::Spec::PerfJson(spec_json)),
                start_at_unix_us: start_unix_us,
                send_records: self.writer.is_some(),
            }),
        );
        if sent {
            self.held.hold(&id, &agent.id, agent.session, ());
        } else if let Some(s) = self.book.shards.get_mut(&id) {
            s.status = ShardStatus::Lost;
        }
        Ok(sent)
    }

    /// Applies a shard's delta to the book once per sequence number and, when it counted, to
    /// the live metrics (Prometheus, OTLP): every delta the stage files count, none other.
    fn merge(&mut self, shard_id: &str, seq: u64, delta: &AggregateDelta) -> anyhow::Result<()> {
        if self.book.apply(shard_id, seq, delta)? {
            let (w, s) = (&self.job.name, &self.stage.name);
            self.cluster.live.apply(w, s, delta);
            let c = &delta.counters;
            swarm_io::telemetry::metrics::requests(w, s, c.total, c.failed);
        }
        Ok(())
    }

    /// An agent sent what cannot be merged: its session is ended (the loss re-assigns its
    /// unfinished budget, as for any lost agent) and the stage goes on.
    fn drop_agent(
        &mut self,
        agent_id: &str,
        session: u64,
        e: &anyhow::Error,
    ) -> anyhow::Result<()> {
        self.note(format!(
            "agent {agent_id} sent a message that cannot be merged ({e:#}); it is dropped"
        ));
        self.cluster
            .registry
            .remove(agent_id, session, &format!("sent a bad message: {e:#}"));
        Ok(())
    }

    /// An agent session ended holding the shards `lost`: survivors of their groups take over
    /// what was not done.
    fn lost(&mut self, agent_id: &str, reason: &str, lost: Vec<String>) -> anyhow::Result<()> {
        if lost.is_empty() {
            return Ok(());
        }
        self.note(format!(
            "agent {agent_id} lost ({reason}); shards {}",
            lost.join(", ")
        ));
        self.salvage(agent_id, lost)
    }

    /// Marks `ids` lost and gives what they did not do to the live agents of their group.
    fn salvage(&mut self, agent_id: &str, ids: Vec<String>) -> anyhow::Result<()> {
        for id in ids {
            let (group, counted, spec) = {
                let Some(s) = self.book.shards.get_mut(&id) else {
                    continue;
                };
                s.status = ShardStatus::Lost;
                // a multi-turn shard's budget is conversations: those begun are its own
                let counted = match s.spec.multi_turn {
                    Some(_) => s.counters.conversations,
                    None => s.counters.total,
                };
                (s.group, counted, s.spec.clone())
            };
            let remaining = spec.number.map(|n| n.saturating_sub(counted));
            if remaining == Some(0) {
                let what = format!("shard {id}: all {counted} requests were already reported");
                self.note(what);
                continue;
            }
            let now = now_unix_us();
            let end = |d: f64| self.start_unix_us as f64 + d * 1e6;
            let duration_left = spec.duration_s.map(|d| (end(d) - now as f64) / 1e6);
            if duration_left.is_some_and(|left| left <= 0.1) {
                continue;
            }
            let members = self.groups.get(group).map_or(&[][..], |g| &g.agents[..]);
            let registry = &self.cluster.registry;
            let survivors: Vec<AgentInfo> = members
                .iter()
                .filter(|a| a.id != agent_id && registry.is_live(&a.id, a.session))
                .cloned()
                .collect();
            if survivors.is_empty() {
                let left = remaining.map_or("remaining-duration".into(), |r| r.to_string());
                let why = "degraded, no surviving agent in its group";
                self.note(format!("shard {id}: {why}; {left} requests not sent"));
                continue;
            }
            if let Some(share) = &spec.trace {
                // the first survivor sends the lines not reported, at their times on the stage's clock
                let (agent, start) = (&survivors[0], now + 500_000);
                let offset_s = start.saturating_sub(self.start_unix_us) as f64 / 1e6;
                let share = super::trace_stage::take_over(share, counted, offset_s);
                let (load, d, all) = (spec.load, duration_left, (0, spec.prompts.total));
                if self.assign(
                    agent,
                    group,
                    load,
                    remaining,
                    d,
                    start,
                    all,
                    None,
                    Some(share),
                )? {
                    let what = format!(
                        "shard {id}: {counted} requests reported before the loss; the rest of its trace lines to {}",
                        agent.id
                    );
                    self.note(what);
                }
                continue;
            }
            let weights: Vec<u64> = survivors.iter().map(|a| u64::from(a.capacity)).collect();
            let start = now + 200_000 + fetch_lead_us(spec.prompts.count, &self.job.prompts);
            // the lost shard's measured requests began at this prompt; its unreported ones follow
            let total = spec.prompts.total.max(1);
            let mut first = (spec.prompts.start + u64::from(spec.warmup) + counted) % total;
            let loads = split_stage(&spec.load, remaining, &weights).or_else(|_| {
                // fewer users than survivors: give the whole remainder to the first survivors
                split_stage(&spec.load, remaining, &weights[..1])
            })?;
            let mut moved = Vec::new();
            let split_over = &weights[..loads.len().min(weights.len())];
            // the survivors carry on the lost shard's part of the ramp, on the stage's clock
            let offset_s = start.saturating_sub(self.start_unix_us) as f64 / 1e6;
            for (j, (agent, part)) in survivors.iter().zip(loads).enumerate() {
                let ramp = spec.ramp.as_ref().map(|r| ShardRamp {
                    offset_s,
                    ..r.split(split_over, j)
                });
                let n = part.number;
                let distinct = n.unwrap_or(spec.prompts.count);
                let at = first;
                first = (first + n.unwrap_or(0)) % total;
                let (load, d) = (part.load, duration_left);
                if self.assign(agent, group, load, n, d, start, (at, distinct), ramp, None)? {
                    let what = n.map_or("the rest".into(), |n| n.to_string());
                    moved.push(format!("{what} to {}", agent.id));
                }
            }
            self.note(format!(
                "shard {id}: {counted} requests reported before the loss; re-assigned {}",
                moved.join(", ")
            ));
        }
        Ok(())
    }
}

/// Extra lead before a stage's start so agents can pull `prompts` prompts of `set` first
/// (at 50 MB/s, at most two minutes); what an agent already holds is not pulled again.
fn fetch_lead_us(prompts: u64, set: &crate::cluster::PromptSet) -> u64 {
    let n = set.len().max(1) as u64;
    let bytes = set.bytes().saturating_mul(prompts.min(n)) / n;
    (bytes / 50).min(120_000_000)
}

/// Runs `stage` of `job` on `groups`, writing into `dir`, within the scheduler's limits for the
/// job's request timeout ([`Limits::for_request_timeout`]).
pub async fn run_stage(
    cluster: &mut Cluster,
    job: &PerfJob,
    stage: &StageSpec,
    groups: &[Group],
    dir: &Path,
    mode: ProgressMode,
    cancel: &CancellationToken,
) -> anyhow::Result<StageResult> {
    let limits = &Limits::for_request_timeout(job.target.total_timeout_s);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let writer = match job.sqlite {
        true => Some(RecordWriter::open(
            &dir.join(crate::run_store::layout::REQUESTS_SQLITE),
        )?),
        false => None,
    };
    let prompts = std::sync::Arc::clone(&job.prompts);
    cluster.prompt_sets.insert(prompts);
    cluster.live.stage_started(&job.name, &stage.name);
    let mut ctx = Ctx {
        job,
        stage,
        groups,
        cluster,
        live: StageLive::new(job, stage, groups, dir, mode),
        book: Book::new(job.hist)?,
        held: Holdings::new("shards"),
        writer,
        events: Vec::new(),
        start_unix_us: now_unix_us() + 500_000,
        next_index: 0,
    };
    let total = job.prompts.len().max(1) as u64;
    let mut planned_shards = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let weights: Vec<u64> = g.agents.iter().map(|a| u64::from(a.capacity)).collect();
        if let Some(tr) = &stage.trace {
            let lines = stage.number.unwrap_or(total);
            let shares = super::trace_stage::plan_group(tr, &weights, lines);
            for (agent, share) in g.agents.iter().zip(shares) {
                if let Some((share, n)) = share {
                    let part = swarm_common::split::ShardLoad {
                        load: stage.load,
                        number: Some(n),
                    };
                    planned_shards.push((agent, gi, part, (0, total), None, Some(share)));
                }
            }
            continue;
        }
        let parts = split_stage(&stage.load, stage.number, &weights).with_context(|| {
            let n = g.agents.len();
            format!("stage {}: cannot split over {n} agents", stage.name)
        })?;
        // EvalScope's order in every group: warmups from prompt 0, then the measured requests;
        // each shard takes the next run of prompts (a duration-bound shard an equal share)
        let share = total.div_ceil(parts.len().max(1) as u64);
        let mut first = u64::from(job.warmup);
        for (k, (agent, part)) in g.agents.iter().zip(parts).enumerate() {
            let distinct = part.number.unwrap_or(share);
            // each agent its share of the ramp at every instant (rate by weight, users exactly)
            let ramp = stage.ramp.map(|r| ShardRamp::whole(r).split(&weights, k));
            planned_shards.push((agent, gi, part, (first % total, distinct), ramp, None));
            first += distinct;
        }
    }
    let most = planned_shards
        .iter()
        .map(|(_, _, _, (_, d), _, _)| *d)
        .max();
    let most = most.unwrap_or(0) + u64::from(job.warmup);
    let lead = match stage.trace {
        // a replay's agents pull their lines as they go: a second to build the first prompts
        Some(_) => 1_000_000,
        None => fetch_lead_us(most, &job.prompts),
    };
    let start_unix_us = now_unix_us() + 500_000 + lead;
    ctx.start_unix_us = start_unix_us;
    for (agent, gi, part, prompts, ramp, trace) in planned_shards {
        let (load, n, d) = (part.load, part.number, stage.duration_s);
        if !ctx.assign(agent, gi, load, n, d, start_unix_us, prompts, ramp, trace)? {
            let id = &agent.id;
            ctx.note(format!(
                "agent {id} was gone before its shard could be assigned"
            ));
        }
    }
    // agents gone before assignment: treat like a loss so survivors take their share
    let mut gone: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in ctx.book.shards.values() {
        if s.status == ShardStatus::Lost {
            gone.entry(s.agent.clone()).or_default().push(s.id.clone());
        }
    }
    for (agent, ids) in gone {
        ctx.lost(&agent, "not connected at assignment", ids)?;
    }

    let ended = drive(&mut ctx, limits, cancel).await?;
    for note in ctx.held.foreign_notes() {
        ctx.note(note);
    }
    let stop_note = match ended.stop {
        Some(Stop::Silent(why)) => Some(format!("stopped: {why}")),
        Some(Stop::Unconfirmed(why) | Stop::Orphaned(why)) => Some(why),
        None => None,
    };
    let early = ended.early;
    let stopped = match (&early, &stop_note) {
        (Some(why), _) => format!("errors: {why}"),
        (None, Some(note)) => note.clone(),
        (None, None) => stop_reason(&ctx.book),
    };
    let Ctx {
        book,
        writer,
        events,
        live,
        cluster,
        ..
    } = ctx;
    live.finish(cluster, dir, &book.whole).await?;
    if let Some(w) = writer
        && let Err(e) = w.finish()
    {
        tracing::error!(error = %e, "per-request records incomplete");
    }
    let status = stage_status(&book, ended.cancelled, stop_note.as_deref());
    let whole = &book.whole;
    let (mut summary, percentiles, rich) = write_stage_with(
        dir,
        &stage.name,
        &stage.load,
        &stopped,
        &status,
        whole,
        &job.outputs.percentiles,
    )?;
    if job.outputs.export_csv {
        let path = dir.join(crate::run_store::layout::PERCENTILES_CSV);
        crate::run_store::csv_export::write_percentiles(&path, &percentiles)?;
    }
    let per_label = write_breakdown(dir, &job.prompts, stage, groups, &book, &events)?;
    // after the stage's own files, so a failure here loses nothing measured
    if job.outputs.speed_benchmark {
        let sqlite = dir.join(crate::run_store::layout::REQUESTS_SQLITE);
        let rows = crate::run_store::speed_benchmark::from_sqlite(&sqlite)?;
        crate::run_store::speed_benchmark::write(dir, &rows)?;
        println!("\n{}", crate::run_store::speed_benchmark::table(&rows));
    }
    super::trace_stage::finish(dir, stage)?;
    if job.multi_turn.is_some() {
        let sqlite = dir.join(crate::run_store::layout::REQUESTS_SQLITE);
        let report = crate::run_store::multi_turn::from_sqlite(&sqlite)?;
        crate::run_store::multi_turn::write(dir, &report)?;
        crate::run_store::multi_turn::fill_summary(dir, &report, &mut summary)?;
        println!("\n{}", crate::run_store::multi_turn::table(&report));
    }
    let mut thresholds = super::threshold::check_all(&job.thresholds, &rich);
    if let Some(why) = &early {
        // an early stop is a failed check of its own: the command ends with 99
        thresholds.push(super::threshold::Checked {
            threshold: format!("early stop: {why}"),
            value: (rich.total > 0).then(|| rich.failed as f64 / rich.total as f64),
            pass: false,
        });
    }
    Ok(StageResult {
        stage: stage.clone(),
        summary,
        percentiles,
        rich,
        stopped,
        per_label,
        thresholds,
        early_stop: early,
        status,
        link: link_line(&book),
    })
}
