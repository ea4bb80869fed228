//! Runs one stage on the cluster: splits it over the agents of each placement group, assigns
//! the shards with a common start instant, merges what the agents stream back (exactly once per
//! sequence number), re-assigns what a lost agent did not do, and writes the stage's files —
//! also when the stage was cancelled, degraded or requests failed. Local runs take this same path
//! with in-process agents.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;
use swarm_common::metrics::aggregate::AggregateDelta;
use swarm_common::metrics::evalscope::{PercentileRow, PerfSummary};
use swarm_common::metrics::summary::RichSummary;
use swarm_common::metrics::{RequestRecord, StageAggregate};
use swarm_common::prompt_slice::PromptSlice;
use swarm_common::schedule::LoadModel;
use swarm_common::split::split_stage;
use swarm_proto::{Assign, Cancel, agent_message, coordinator_message};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::job::{PerfJob, StageSpec};
use super::progress::StageProgress;
use super::shards::{Book, ShardStatus};
use crate::cluster::service::now_unix_us;
use crate::cluster::{AgentInfo, Cluster, ClusterEvent};
use crate::run_store::breakdown::{
    Breakdown, HttpVersion, Link as AgentLink, ShardEnd, ShardRow, SliceRow, Summaries,
};
use crate::run_store::sqlite::RecordWriter;
use crate::run_store::stage_files::{label_dir_name, write_histograms, write_json, write_stage};

/// A placement group: agents that share one copy of the stage's load.
#[derive(Debug, Clone)]
pub struct Group {
    /// `key=value` for per-label placement, None for a plain split.
    pub label: Option<String>,
    /// The agents.
    pub agents: Vec<AgentInfo>,
}

/// One placement label's view: `key=value`, EvalScope's summary, ours.
pub type LabelView = (String, PerfSummary, RichSummary);

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

/// Whether a stage produced a result, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StageStatus {
    /// It ran and requests succeeded.
    Ok,
    /// No request succeeded.
    NoSuccess {
        /// Why: the top error classes with an example message each, or why nothing was sent.
        reason: String,
    },
    /// Every agent running it was lost before it finished.
    AgentsLost {
        /// What happened.
        reason: String,
    },
    /// It was cancelled before it finished.
    Cancelled,
}

impl StageStatus {
    /// The exit status this stage calls for.
    pub fn exit(&self) -> crate::outcome::Exit {
        use crate::outcome::Exit;
        match self {
            StageStatus::Ok => Exit::Ok,
            StageStatus::NoSuccess { .. } => Exit::NoSuccess,
            StageStatus::AgentsLost { .. } => Exit::AgentsLost,
            StageStatus::Cancelled => Exit::Cancelled,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            StageStatus::Ok => "ok".into(),
            StageStatus::NoSuccess { reason } => format!("FAILED: no successful request: {reason}"),
            StageStatus::AgentsLost { reason } => format!("FAILED: agents lost: {reason}"),
            StageStatus::Cancelled => "cancelled".into(),
        }
    }
}

/// The failures of `c`, most frequent first: `connect ×10 (e.g. ...)`.
pub fn top_errors(c: &swarm_common::metrics::aggregate::Counters) -> String {
    let mut classes: Vec<(&String, &u64)> = c.errors.iter().collect();
    classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    classes
        .iter()
        .take(3)
        .map(|(class, n)| match c.error_examples.get(*class) {
            Some(example) => format!("{class} ×{n} (e.g. {example})"),
            None => format!("{class} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn stage_status(book: &Book, cancelled: bool, stop_note: Option<&str>) -> StageStatus {
    let c = &book.whole.counters;
    if cancelled {
        return StageStatus::Cancelled;
    }
    let done = book
        .shards
        .values()
        .any(|s| matches!(s.status, ShardStatus::Done(_)));
    let lost = book.shards.values().any(|s| s.status == ShardStatus::Lost);
    if !done && lost {
        return StageStatus::AgentsLost {
            reason: format!(
                "no agent finished its shard ({} requests reported before the losses)",
                c.total
            ),
        };
    }
    if c.success > 0 {
        return StageStatus::Ok;
    }
    let reason = if c.total > 0 {
        format!("all {} requests failed: {}", c.total, top_errors(c))
    } else {
        let failures: Vec<String> = book
            .shards
            .values()
            .filter_map(|s| match &s.status {
                ShardStatus::Failed(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        match (failures.first(), stop_note) {
            (Some(first), _) => format!(
                "no request was sent: {} of {} shards failed, the first: {first}",
                failures.len(),
                book.shards.len()
            ),
            (None, Some(note)) => format!("no request was sent: {note}"),
            (None, None) => "no request was sent".to_string(),
        }
    };
    StageStatus::NoSuccess { reason }
}

/// How a stage shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A progress bar on stderr (hidden when stderr is not a terminal).
    Bar,
    /// Nothing.
    Quiet,
}

pub use crate::run_store::breakdown::{PromptTransfer, StageEvent};

/// One line on how the stage reached its target: version and connections over the agents.
pub fn link_line(book: &Book) -> Option<String> {
    let mut connections = 0;
    let mut http = None;
    let mut agents = std::collections::BTreeSet::new();
    for s in book.shards.values() {
        if let Some(l) = s.link {
            connections += l.connections;
            http = http.or(l.http);
            agents.insert(s.agent.as_str());
        }
    }
    let http = http?.as_str();
    let n = agents.len();
    Some(format!(
        "{http}, {connections} connection{} from {n} agent{}",
        if connections == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" }
    ))
}

/// Seconds between the start instant and when a stage gives up waiting for silent shards.
fn silence_limit(job: &PerfJob) -> Duration {
    Duration::from_secs_f64(job.target.total_timeout_s.min(3600.0) + 30.0)
}

struct Ctx<'a> {
    job: &'a PerfJob,
    stage: &'a StageSpec,
    cluster: &'a mut Cluster,
    book: Book,
    writer: Option<RecordWriter>,
    events: Vec<StageEvent>,
    start_unix_us: u64,
    next_index: usize,
    /// Messages per agent for shards its session does not hold (ignored).
    foreign: std::collections::BTreeMap<String, u64>,
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
        let total = self.job.prompts.len().max(1) as u64;
        let w = u64::from(warmup) % total;
        let start = (first % total + total - w) % total;
        (
            self.job
                .prompts
                .slice(start, u64::from(warmup).saturating_add(distinct)),
            warmup,
        )
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
    ) -> anyhow::Result<bool> {
        let (prompts, warmup) = self.slice_for(first, distinct);
        let i = self.next_index;
        self.next_index += 1;
        let shard_id = format!("{}/{}/{i}", self.job.name, self.stage.name);
        let mut spec = self.job.shard(self.stage, shard_id, prompts);
        spec.load = load;
        spec.number = number;
        spec.duration_s = duration_s;
        spec.seed = self.job.seed.wrapping_add(i as u64);
        spec.warmup = warmup; // warm each agent's connections only once per stage
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
        if !sent && let Some(s) = self.book.shards.get_mut(&id) {
            s.status = ShardStatus::Lost;
        }
        Ok(sent)
    }

    fn on_message(
        &mut self,
        groups: &[Group],
        agent_id: &str,
        session: u64,
        msg: agent_message::Msg,
        stage_cancelled: bool,
    ) -> anyhow::Result<()> {
        use agent_message::Msg;
        let settings = self.job.hist;
        // only the session a shard was assigned to speaks for it
        let shard_id = match &msg {
            Msg::Started(m) => Some(m.shard_id.as_str()),
            Msg::Progress(m) => Some(m.shard_id.as_str()),
            Msg::Records(m) => Some(m.shard_id.as_str()),
            Msg::Done(m) => Some(m.shard_id.as_str()),
            Msg::Failed(m) => Some(m.shard_id.as_str()),
            _ => None,
        };
        if let Some(id) = shard_id
            && let Some(sh) = self.book.shards.get(id)
            && (sh.agent != agent_id || sh.session != session)
        {
            *self.foreign.entry(agent_id.to_string()).or_default() += 1;
            tracing::warn!(
                agent_id,
                session,
                shard = id,
                "message for a shard this session does not hold, ignored"
            );
            return Ok(());
        }
        // a snapshot that cannot be merged drops its agent, never the stage
        let decoded = match &msg {
            Msg::Progress(p) => Some(decode(p.delta.as_ref(), settings, &p.shard_id)),
            Msg::Done(d) => Some(decode(d.last.as_ref(), settings, &d.shard_id)),
            _ => None,
        };
        let delta = match decoded {
            Some(Ok(delta)) => delta,
            Some(Err(e)) => return self.drop_agent(agent_id, session, &e),
            None => AggregateDelta::default(),
        };
        match msg {
            Msg::Started(s) => {
                if let Some(sh) = self.book.shards.get_mut(&s.shard_id) {
                    sh.skew_us = Some(s.start_skew_us);
                    sh.fetched = Some(super::shards::Fetched {
                        bytes: s.prompt_bytes_fetched,
                        prompts: s.prompts_fetched,
                        used: s.prompts_used,
                    });
                }
            }
            Msg::Progress(p) => {
                self.merge(&p.shard_id, p.seq, &delta)?;
            }
            Msg::Records(b) => {
                let fresh = self.book.shards.get_mut(&b.shard_id).is_some_and(|s| {
                    s.status != ShardStatus::Lost && s.record_batches.insert(b.seq)
                });
                if fresh && let Some(w) = &self.writer {
                    let mut recs = Vec::new();
                    for (n, line) in b.jsonl.split(|&c| c == b'\n').enumerate() {
                        if line.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        match serde_json::from_slice::<RequestRecord>(line) {
                            Ok(r) => recs.push(r),
                            Err(e) => {
                                tracing::warn!(agent_id, shard = %b.shard_id, batch = b.seq, line = n + 1, error = %e, "bad record line from agent")
                            }
                        }
                    }
                    w.write(&b.shard_id, recs)?;
                }
            }
            Msg::Done(d) => {
                self.merge(&d.shard_id, d.seq, &delta)?;
                // a lost shard's budget was re-assigned when it was lost: its late end must not
                // re-assign it again (a `cancelled` stop would), only say what was discarded
                if let Some(s) = self.book.shards.get(&d.shard_id)
                    && s.status == ShardStatus::Lost
                {
                    let late = s.late;
                    if late > 0 {
                        self.note(format!(
                            "shard {}: agent {agent_id} came back after the shard was re-assigned; its {late} late requests were discarded",
                            d.shard_id
                        ));
                    }
                    return Ok(());
                }
                let stop = swarm_proto::StopReason::try_from(d.stop)
                    .unwrap_or(swarm_proto::StopReason::Unspecified);
                let unasked_cancel = stop == swarm_proto::StopReason::Cancelled && !stage_cancelled;
                if let Some(s) = self.book.shards.get_mut(&d.shard_id) {
                    s.link = Some(super::shards::Link {
                        connections: d.connections,
                        http: match swarm_proto::HttpVersion::try_from(d.http_version) {
                            Ok(swarm_proto::HttpVersion::HttpVersion11) => Some(HttpVersion::Http1),
                            Ok(swarm_proto::HttpVersion::HttpVersion2) => Some(HttpVersion::Http2),
                            _ => None,
                        },
                    });
                    if s.status == ShardStatus::Running {
                        s.status = ShardStatus::Done(stop);
                    }
                }
                if unasked_cancel {
                    // the agent stopped on its own (shutdown, lost link): finish its budget elsewhere
                    self.note(format!(
                        "shard {} stopped early on agent {agent_id}",
                        d.shard_id
                    ));
                    self.salvage(groups, agent_id, vec![d.shard_id])?;
                }
            }
            Msg::Failed(f) => {
                if let Some(s) = self.book.shards.get_mut(&f.shard_id) {
                    s.status = ShardStatus::Failed(f.reason.clone());
                }
                self.note(format!(
                    "shard {} failed on agent {agent_id}: {}",
                    f.shard_id, f.reason
                ));
            }
            Msg::Hello(_) | Msg::Heartbeat(_) | Msg::Scored(_) | Msg::ProbeResult(_) => {}
        }
        Ok(())
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

    /// An agent session ended: its running shards are lost; survivors of the group take over
    /// what was not done.
    fn on_lost(
        &mut self,
        groups: &[Group],
        agent_id: &str,
        session: u64,
        reason: &str,
    ) -> anyhow::Result<()> {
        let lost: Vec<String> = self
            .book
            .running()
            .filter(|s| s.agent == agent_id && s.session == session)
            .map(|s| s.id.clone())
            .collect();
        if lost.is_empty() {
            return Ok(());
        }
        self.note(format!(
            "agent {agent_id} lost ({reason}); shards {}",
            lost.join(", ")
        ));
        self.salvage(groups, agent_id, lost)
    }

    /// Marks `ids` lost and gives what they did not do to the live agents of their group.
    fn salvage(
        &mut self,
        groups: &[Group],
        agent_id: &str,
        ids: Vec<String>,
    ) -> anyhow::Result<()> {
        for id in ids {
            let (group, counted, spec) = {
                let Some(s) = self.book.shards.get_mut(&id) else {
                    continue;
                };
                s.status = ShardStatus::Lost;
                (s.group, s.counters.total, s.spec.clone())
            };
            let remaining = spec.number.map(|n| n.saturating_sub(counted));
            if remaining == Some(0) {
                self.note(format!(
                    "shard {id}: all {counted} requests were already reported"
                ));
                continue;
            }
            let now = now_unix_us();
            let duration_left = match spec.duration_s {
                Some(d) => {
                    let end = self.start_unix_us as f64 + d * 1e6;
                    let left = (end - now as f64) / 1e6;
                    if left <= 0.1 {
                        continue;
                    }
                    Some(left)
                }
                None => None,
            };
            let survivors: Vec<AgentInfo> = groups
                .get(group)
                .map(|g| {
                    g.agents
                        .iter()
                        .filter(|a| {
                            a.id != agent_id && self.cluster.registry.is_live(&a.id, a.session)
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if survivors.is_empty() {
                self.note(format!(
                    "shard {id}: degraded, no surviving agent in its group; {} requests not sent",
                    remaining
                        .map(|r| r.to_string())
                        .unwrap_or_else(|| "remaining-duration".into())
                ));
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
            for (agent, part) in survivors.iter().zip(loads) {
                let n = part.number;
                let distinct = n.unwrap_or(spec.prompts.count);
                let at = first;
                first = (first + n.unwrap_or(0)) % total;
                if self.assign(
                    agent,
                    group,
                    part.load,
                    n,
                    duration_left,
                    start,
                    (at, distinct),
                )? {
                    moved.push(format!(
                        "{} to {}",
                        n.map(|n| n.to_string())
                            .unwrap_or_else(|| "the rest".into()),
                        agent.id
                    ));
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

fn decode(
    snap: Option<&swarm_proto::Snapshot>,
    settings: swarm_common::metrics::aggregate::HistSettings,
    shard: &str,
) -> anyhow::Result<AggregateDelta> {
    match snap {
        Some(s) => swarm_common::wire::delta_from_snapshot(s, settings)
            .with_context(|| format!("bad snapshot for shard {shard}")),
        None => Ok(AggregateDelta::default()),
    }
}

/// Extra lead before a stage's start so agents can pull `prompts` prompts of `set` first
/// (at 50 MB/s, at most two minutes); what an agent already holds is not pulled again.
fn fetch_lead_us(prompts: u64, set: &crate::cluster::PromptSet) -> u64 {
    let n = set.len().max(1) as u64;
    let bytes = set.bytes().saturating_mul(prompts.min(n)) / n;
    (bytes / 50).min(120_000_000)
}

fn planned(stage: &StageSpec, groups: &[Group]) -> Option<u64> {
    stage.number.map(|n| n * groups.len() as u64)
}

/// Runs `stage` of `job` on `groups`, writing into `dir`.
pub async fn run_stage(
    cluster: &mut Cluster,
    job: &PerfJob,
    stage: &StageSpec,
    groups: &[Group],
    dir: &Path,
    mode: ProgressMode,
    cancel: &CancellationToken,
) -> anyhow::Result<StageResult> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let writer = if job.sqlite {
        Some(RecordWriter::open(&dir.join("requests.sqlite"))?)
    } else {
        None
    };
    cluster
        .prompt_sets
        .insert(std::sync::Arc::clone(&job.prompts));
    cluster.live.stage_started(&job.name, &stage.name);
    let start_unix_us = now_unix_us() + 500_000;
    let mut ctx = Ctx {
        job,
        stage,
        cluster,
        book: Book::new(job.hist)?,
        writer,
        events: Vec::new(),
        start_unix_us,
        next_index: 0,
        foreign: Default::default(),
    };
    let total = job.prompts.len().max(1) as u64;
    let mut planned_shards = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let weights: Vec<u64> = g.agents.iter().map(|a| u64::from(a.capacity)).collect();
        let parts = split_stage(&stage.load, stage.number, &weights).with_context(|| {
            format!(
                "stage {}: cannot split over {} agents",
                stage.name,
                g.agents.len()
            )
        })?;
        // EvalScope's order in every group: warmups from prompt 0, then the measured requests;
        // each shard takes the next run of prompts (a duration-bound shard an equal share)
        let share = total.div_ceil(parts.len().max(1) as u64);
        let mut first = u64::from(job.warmup);
        for (agent, part) in g.agents.iter().zip(parts) {
            let distinct = part.number.unwrap_or(share);
            planned_shards.push((agent, gi, part, (first % total, distinct)));
            first += distinct;
        }
    }
    let most = planned_shards
        .iter()
        .map(|(_, _, _, (_, d))| d + u64::from(job.warmup))
        .max()
        .unwrap_or(0);
    let start_unix_us = now_unix_us() + 500_000 + fetch_lead_us(most, &job.prompts);
    ctx.start_unix_us = start_unix_us;
    for (agent, gi, part, prompts) in planned_shards {
        if !ctx.assign(
            agent,
            gi,
            part.load,
            part.number,
            stage.duration_s,
            start_unix_us,
            prompts,
        )? {
            ctx.note(format!(
                "agent {} was gone before its shard could be assigned",
                agent.id
            ));
        }
    }
    // agents gone before assignment: treat like a loss so survivors take their share
    let gone: Vec<(String, u64)> = ctx
        .book
        .shards
        .values()
        .filter(|s| s.status == ShardStatus::Lost && s.counters.total == 0)
        .map(|s| (s.agent.clone(), s.session))
        .collect();
    for s in ctx.book.shards.values_mut() {
        if gone
            .iter()
            .any(|(a, sess)| *a == s.agent && *sess == s.session)
        {
            s.status = ShardStatus::Running;
        }
    }
    for (a, sess) in gone {
        ctx.on_lost(groups, &a, sess, "not connected at assignment")?;
    }

    let progress = StageProgress::new(stage, planned(stage, groups), mode);
    let started = Instant::now();
    let mut series = super::timeseries::TimeSeries::default();
    let mut live_file = super::live_file::LiveFile::new(dir);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_event = Instant::now();
    let mut cancelled_at: Option<Instant> = None;
    // stopped early for errors: since when, and why
    let mut errors_at: Option<(Instant, String)> = None;
    let mut stop_note = None;
    while !ctx.book.finished() {
        tokio::select! {
            ev = ctx.cluster.events.recv() => {
                last_event = Instant::now();
                match ev {
                    Some(ClusterEvent::Message { agent_id, session, msg, .. }) => ctx.on_message(groups, &agent_id, session, *msg, cancelled_at.is_some() || errors_at.is_some())?,
                    Some(ClusterEvent::Lost { agent_id, session, reason }) => ctx.on_lost(groups, &agent_id, session, &reason)?,
                    Some(ClusterEvent::Joined(a)) => tracing::info!(agent_id = %a.id, "agent joined during a stage; it will take part from the next stage"),
                    None => anyhow::bail!("cluster event channel closed"),
                }
            }
            _ = tick.tick() => {
                let alive = ctx.cluster.registry.agents().len();
                progress.update(&ctx.book.whole, alive);
                swarm_io::telemetry::metrics::agents(alive as u64);
                ctx.cluster.live.set_agents(alive as u64);
                let p99 = ctx.book.whole.hist(swarm_common::metrics::aggregate::Metric::Ttft).percentile(99.0);
                ctx.cluster.live.set_ttft_p99(&job.name, &stage.name, p99);
                let elapsed = started.elapsed().as_secs_f64();
                series.sample(elapsed, &ctx.book.whole.counters);
                live_file.update(&live_status(job, stage, groups, &ctx.book.whole, elapsed, alive, p99));
                if errors_at.is_none()
                    && cancelled_at.is_none()
                    && let Some(why) = job.early_stop.verdict(ctx.book.whole.counters.total, ctx.book.whole.counters.failed)
                {
                    let running: Vec<(String, String)> = ctx.book.running().map(|s| (s.agent.clone(), s.id.clone())).collect();
                    for (agent, id) in running {
                        ctx.cluster.registry.send(&agent, coordinator_message::Msg::Cancel(Cancel { shard_id: id, reason: "too many errors".into() }));
                    }
                    ctx.note(format!("stopped early: {why}"));
                    errors_at = Some((Instant::now(), why));
                }
                let stopping = cancelled_at.or(errors_at.as_ref().map(|(t, _)| *t));
                if stopping.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
                    stop_note = Some("cancelled: agents did not confirm within 10 s".to_string());
                    break;
                }
                if last_event.elapsed() > silence_limit(job) {
                    stop_note = Some(format!("stopped: no word from any shard for {:?}", silence_limit(job)));
                    ctx.cluster.registry.broadcast(coordinator_message::Msg::Cancel(Cancel { shard_id: String::new(), reason: "stage silent".into() }));
                    break;
                }
            }
            _ = cancel.cancelled(), if cancelled_at.is_none() => {
                cancelled_at = Some(Instant::now());
                let running: Vec<(String, String)> = ctx.book.running().map(|s| (s.agent.clone(), s.id.clone())).collect();
                for (agent, id) in running {
                    ctx.cluster.registry.send(&agent, coordinator_message::Msg::Cancel(Cancel { shard_id: id, reason: "run cancelled".into() }));
                }
                ctx.note("run cancelled: stopping shards, keeping what they measured".into());
            }
        }
    }
    progress.finish();
    let p99 = ctx
        .book
        .whole
        .hist(swarm_common::metrics::aggregate::Metric::Ttft)
        .percentile(99.0);
    ctx.cluster.live.set_ttft_p99(&job.name, &stage.name, p99);
    live_file.finish().await;
    for (agent, n) in std::mem::take(&mut ctx.foreign) {
        ctx.note(format!(
            "agent {agent}: {n} messages for shards its session does not hold were ignored"
        ));
    }
    let stop_note_copy = stop_note.clone();
    let early = errors_at.map(|(_, why)| why);
    let stopped = match (&early, stop_note) {
        (Some(why), _) => format!("errors: {why}"),
        (None, Some(note)) => note,
        (None, None) => stop_reason(&ctx.book),
    };
    let Ctx {
        book,
        writer,
        events,
        ..
    } = ctx;
    if let Some(w) = writer
        && let Err(e) = w.finish()
    {
        tracing::error!(error = %e, "per-request records incomplete");
    }
    let status = stage_status(&book, cancelled_at.is_some(), stop_note_copy.as_deref());
    let (summary, percentiles, rich) = write_stage(
        dir,
        &stage.name,
        &stage.load,
        &stopped,
        &status,
        &book.whole,
    )?;
    let per_label = write_breakdown(dir, &job.prompts, stage, groups, &book, &events)?;
    let link = link_line(&book);
    let mut thresholds = super::threshold::check_all(&job.thresholds, &rich);
    if let Some(why) = &early {
        // an early stop is a failed check of its own: the command ends with 99
        thresholds.push(super::threshold::Checked {
            threshold: format!("early stop: {why}"),
            value: (rich.total > 0).then(|| rich.failed as f64 / rich.total as f64),
            pass: false,
        });
    }
    series.write(dir, started.elapsed().as_secs_f64(), &book.whole.counters)?;
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
        link,
    })
}

fn live_status(
    job: &PerfJob,
    stage: &StageSpec,
    groups: &[Group],
    whole: &StageAggregate,
    elapsed_s: f64,
    agents: usize,
    ttft_p99_us: u64,
) -> super::live_file::LiveStatus {
    let c = &whole.counters;
    let per_s = |n: u64| n as f64 / elapsed_s.max(1e-3);
    super::live_file::LiveStatus {
        workload: job.name.clone(),
        stage: stage.name.clone(),
        elapsed_s,
        total: c.total,
        failed: c.failed,
        planned: planned(stage, groups),
        req_per_s: per_s(c.total),
        output_tok_per_s: per_s(c.completion_tokens),
        ttft_p99_ms: ttft_p99_us as f64 / 1e3,
        agents: agents as u64,
        updated_unix_ms: now_unix_us() / 1000,
    }
}

/// How a stop reason is written in the stage files (`count`, `duration`, `cancelled`).
pub fn stop_label(stop: swarm_proto::StopReason) -> &'static str {
    match stop {
        swarm_proto::StopReason::Count => "count",
        swarm_proto::StopReason::Duration => "duration",
        swarm_proto::StopReason::Cancelled => "cancelled",
        swarm_proto::StopReason::Unspecified => "unspecified",
    }
}

fn stop_reason(book: &Book) -> String {
    let mut reasons: Vec<String> = book
        .shards
        .values()
        .map(|s| match &s.status {
            ShardStatus::Done(r) => stop_label(*r).to_string(),
            ShardStatus::Failed(_) => "failed".into(),
            ShardStatus::Lost => "agent lost".into(),
            ShardStatus::Running => "running".into(),
        })
        .collect();
    reasons.sort();
    reasons.dedup();
    if reasons.iter().all(|r| r == "count" || r == "agent lost")
        && reasons.iter().any(|r| r == "count")
    {
        if reasons.len() == 1 {
            "count".into()
        } else {
            "count (after re-assignment)".into()
        }
    } else {
        reasons.join(", ")
    }
}

fn write_breakdown(
    dir: &Path,
    set: &crate::cluster::PromptSet,
    stage: &StageSpec,
    groups: &[Group],
    book: &Book,
    events: &[StageEvent],
) -> anyhow::Result<Vec<LabelView>> {
    let load = swarm_common::metrics::evalscope::StageLoad {
        concurrency: stage.load.concurrency(),
        rate: stage.load.rate(),
    };
    let entry = |agg: &StageAggregate| Summaries {
        evalscope: swarm_common::metrics::evalscope::summary(agg, load),
        summary: RichSummary::of(agg),
    };
    let mut agents = std::collections::BTreeMap::new();
    for (id, agg) in &book.per_agent {
        agents.insert(id.clone(), entry(agg));
    }
    let mut labels = std::collections::BTreeMap::new();
    let mut per_label = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        if let (Some(label), Some(agg)) = (&g.label, book.per_group.get(&gi)) {
            let hdir = dir
                .join("histograms")
                .join("labels")
                .join(label_dir_name(label));
            write_histograms(&hdir, agg)?;
            labels.insert(label.clone(), entry(agg));
            per_label.push((
                label.clone(),
                swarm_common::metrics::evalscope::summary(agg, load),
                RichSummary::of(agg),
            ));
        }
    }
    let mut prompts: std::collections::BTreeMap<String, PromptTransfer> = Default::default();
    for s in book.shards.values() {
        let t = prompts.entry(s.agent.clone()).or_default();
        if let Some(f) = s.fetched {
            t.received_bytes += f.bytes;
            t.received_prompts += f.prompts;
        }
        t.slice_bytes += set.slice_bytes(&s.spec.prompts);
        t.slice_prompts += s.spec.prompts.count;
    }
    let mut connections: std::collections::BTreeMap<String, AgentLink> = Default::default();
    for s in book.shards.values() {
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
                ShardStatus::Done(r) => match r {
                    swarm_proto::StopReason::Count => ShardEnd::Count,
                    swarm_proto::StopReason::Duration => ShardEnd::Duration,
                    swarm_proto::StopReason::Cancelled => ShardEnd::Cancelled,
                    swarm_proto::StopReason::Unspecified => ShardEnd::Unspecified,
                },
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
        })
        .collect();
    write_json(
        &dir.join(crate::run_store::breakdown::BREAKDOWN_JSON),
        &Breakdown {
            agents,
            labels,
            shards,
            events: events.to_vec(),
            prompts,
            connections,
        },
    )?;
    Ok(per_label)
}
