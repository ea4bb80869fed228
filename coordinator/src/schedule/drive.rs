//! The scheduling loop shared by perf stages and eval leases: cluster events to the work, lost
//! sessions' units back to it, early stops, cancels with their grace, silence, the rejoin wait.

use std::time::Duration;

use swarm_proto::agent_message::Msg;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Holdings, Limits, Watch};
use crate::cluster::{AgentInfo, Cluster, ClusterEvent};

/// How often the loop looks at the clock.
const TICK: Duration = Duration::from_millis(250);

/// A piece of work handed out in units (perf shards, eval batches); [`drive`] runs it.
/// `stopping` is true once a cancel went out (the run's, or an early stop).
pub trait Work {
    /// What is kept with a held unit.
    type Unit;
    /// The cluster and the units handed out.
    fn parts(&mut self) -> (&mut Cluster, &mut Holdings<Self::Unit>);
    /// Hands out what waits, before each wait for an event.
    fn top_up(&mut self, _stopping: bool) -> anyhow::Result<()> {
        Ok(())
    }
    /// A message from `agent`'s `session`.
    fn on_message(
        &mut self,
        agent: &str,
        session: u64,
        msg: Msg,
        stopping: bool,
    ) -> anyhow::Result<()>;
    /// `gone` (agent, session) ended (`why`) holding `units`, taken back from it.
    fn on_lost(
        &mut self,
        gone: (&str, u64),
        why: &str,
        units: Vec<(String, Self::Unit)>,
        stopping: bool,
    ) -> anyhow::Result<()>;
    /// An agent joined.
    fn on_joined(&mut self, _agent: AgentInfo) {}
    /// Every tick: why to stop early, if the work should (its units are then cancelled).
    fn on_tick(&mut self, _stopping: bool) -> Option<String> {
        None
    }
    /// The run was cancelled; every holder was sent a `Cancel`.
    fn on_cancel(&mut self) {}
    /// Agents left to run the work, if it waits [`Limits::rejoin_wait`] for one when none is.
    fn agents_left(&self) -> Option<usize> {
        None
    }
}

/// Why the work stopped with units still out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// No word from any agent for the silence limit: which units were out.
    Silent(String),
    /// Agents did not confirm a cancel within its grace.
    Unconfirmed(String),
    /// No agent came back within the rejoin wait.
    Orphaned(String),
}

/// How [`drive`] ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The run was cancelled.
    pub cancelled: bool,
    /// Why the work stopped early (from [`Work::on_tick`]).
    pub early: Option<String>,
    /// Why it stopped with units out (none: nothing was left out).
    pub stop: Option<Stop>,
}

/// Runs `work` until nothing is held, within `limits`.
pub async fn drive<W: Work>(
    work: &mut W,
    limits: &Limits,
    cancel: &CancellationToken,
) -> anyhow::Result<Ended> {
    let mut watch = Watch::new(Instant::now());
    let mut tick = tokio::time::interval(TICK);
    let mut ended = Ended::default();
    loop {
        work.top_up(watch.stopping())?;
        let (cluster, held) = work.parts();
        if held.is_empty() {
            return Ok(ended);
        }
        tokio::select! {
            ev = cluster.events.recv() => {
                watch.heard(Instant::now());
                let stopping = watch.stopping();
                match ev {
                    Some(ClusterEvent::Message { agent_id, session, msg, .. }) => {
                        work.on_message(&agent_id, session, *msg, stopping)?
                    }
                    Some(ClusterEvent::Lost { agent_id, session, reason }) => {
                        let units = work.parts().1.lose(&agent_id, session);
                        work.on_lost((&agent_id, session), &reason, units, stopping)?
                    }
                    Some(ClusterEvent::Joined(a)) => work.on_joined(a),
                    None => anyhow::bail!("cluster event channel closed"),
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let stopping = watch.stopping();
                if let Some(why) = work.on_tick(stopping).filter(|_| !stopping) {
                    let (cluster, held) = work.parts();
                    held.cancel_all(&cluster.registry, &format!("stopped early: {why}"));
                    ended.early = Some(why);
                    watch.cancelled(now, limits);
                }
                let agents = work.agents_left();
                let (cluster, held) = work.parts();
                ended.stop = if let Some(why) = watch.unconfirmed(now, limits) {
                    Some(Stop::Unconfirmed(why))
                } else if let Some(silent) = watch.silent(now, limits, held) {
                    held.cancel_all(&cluster.registry, "silent");
                    Some(Stop::Silent(silent))
                } else if let Some(n) = agents && watch.orphaned(now, limits, n) {
                    let wait = limits.rejoin_wait;
                    Some(Stop::Orphaned(format!("every agent was lost and none came back within {wait:?}")))
                } else {
                    None
                };
                if ended.stop.is_some() {
                    return Ok(ended);
                }
            }
            _ = cancel.cancelled(), if !ended.cancelled => {
                ended.cancelled = true;
                let (cluster, held) = work.parts();
                held.cancel_all(&cluster.registry, "run cancelled");
                work.on_cancel();
                watch.cancelled(Instant::now(), limits);
            }
        }
    }
}
