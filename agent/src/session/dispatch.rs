//! A welcomed session: heartbeats, the coordinator's messages (Assign, Cancel, Drain), the shard
//! runners' lifecycle, and how the session ends — drained, cancelled, or broken.

use std::collections::HashMap;
use std::time::Duration;

use swarm_common::metrics::StageAggregate;
use swarm_common::shard::PerfShardSpec;
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{Assign, Cancel, CoordinatorMessage, ShardFailed, assign};
use tokio::task::{JoinError, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::AgentConfig;
use super::clock::ClockOffset;
use super::error::SessionError;
use super::handshake::{Opened, kind};
use super::heartbeat::Prober;
use super::outbox::Outbox;
use super::shard::{self, ShardJob};

/// Heartbeat and progress interval when the Welcome says 0.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Shortest heartbeat or progress interval honoured.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);
/// The coordinator is considered gone after max(this, 10 heartbeats) without a message.
pub const MIN_SILENCE: Duration = Duration::from_secs(30);
/// After the run is cancelled, how long shards get to report what they measured.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long runners get to stop when the link broke, before they are aborted.
pub const REAP_GRACE: Duration = Duration::from_secs(3);
/// How long the coordinator gets to close its half after ours is closed.
pub const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// Farthest in the future a shard's start may be.
pub const MAX_START_DELAY: Duration = Duration::from_secs(3600);

/// How a session ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The coordinator drained the agent: do not reconnect.
    Drained,
    /// The agent's run was cancelled.
    Cancelled,
}

fn interval_ms(ms: u32) -> Duration {
    if ms == 0 {
        DEFAULT_INTERVAL
    } else {
        Duration::from_millis(u64::from(ms)).max(MIN_INTERVAL)
    }
}

struct Running {
    cancel: CancellationToken,
    task: tokio::task::Id,
}

struct Session<'a> {
    cfg: &'a AgentConfig,
    out: Option<Outbox>,
    client: crate::transport::SessionClient,
    clock: ClockOffset,
    prober: Prober,
    shards: HashMap<String, Running>,
    tasks: JoinSet<String>,
    /// Parent of every shard's token: cancels all of them at teardown.
    shards_cancel: CancellationToken,
    progress_every: Duration,
    /// Taking no new shards (Drain received or the run cancelled).
    draining: bool,
    drain_received: bool,
}

/// Runs a welcomed session until it is drained, cancelled, or breaks. Running shards are
/// cancelled on the way out of a broken session (the coordinator re-assigns their budget).
pub async fn serve(
    cfg: &AgentConfig,
    opened: Opened,
    cancel: &CancellationToken,
) -> Result<SessionEnd, SessionError> {
    let Opened {
        welcome,
        welcomed_unix_us,
        mut inbound,
        out,
        client,
    } = opened;
    tracing::Span::current().record("run_id", welcome.run_id.as_str());
    let heartbeat_every = interval_ms(welcome.heartbeat_ms);
    let silence = (heartbeat_every * 10).max(MIN_SILENCE);
    tracing::info!(
        run_id = %welcome.run_id,
        heartbeat_ms = heartbeat_every.as_millis() as u64,
        progress_ms = interval_ms(welcome.progress_ms).as_millis() as u64,
        "session welcomed"
    );
    let mut s = Session {
        cfg,
        out: Some(out),
        client,
        clock: ClockOffset::from_welcome(welcome.coordinator_unix_us, welcomed_unix_us),
        prober: Prober::default(),
        shards: HashMap::new(),
        tasks: JoinSet::new(),
        shards_cancel: CancellationToken::new(),
        progress_every: interval_ms(welcome.progress_ms),
        draining: false,
        drain_received: false,
    };
    let end = s.run(&mut inbound, cancel, heartbeat_every, silence).await;
    s.finish(end, inbound).await
}

impl Session<'_> {
    fn out(&self) -> Result<&Outbox, SessionError> {
        self.out
            .as_ref()
            .ok_or(SessionError::Link(super::outbox::LinkDown::Closed))
    }

    async fn run(
        &mut self,
        inbound: &mut tonic::Streaming<CoordinatorMessage>,
        cancel: &CancellationToken,
        heartbeat_every: Duration,
        silence: Duration,
    ) -> Result<SessionEnd, SessionError> {
        let down = self.out()?.clone();
        let mut hb = tokio::time::interval(heartbeat_every);
        hb.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut stop_by: Option<Instant> = None;
        loop {
            if self.draining && self.shards.is_empty() {
                return Ok(if stop_by.is_some() {
                    SessionEnd::Cancelled
                } else {
                    SessionEnd::Drained
                });
            }
            let stop_at = stop_by.unwrap_or_else(|| Instant::now() + STOP_GRACE);
            tokio::select! {
                _ = cancel.cancelled(), if stop_by.is_none() => {
                    tracing::info!(shards = self.shards.len(), "stopping: cancelling running shards");
                    self.draining = true;
                    self.shards_cancel.cancel();
                    stop_by = Some(Instant::now() + STOP_GRACE);
                }
                _ = tokio::time::sleep_until(stop_at), if stop_by.is_some() => {
                    tracing::warn!(shards = self.shards.len(), grace_s = STOP_GRACE.as_secs(), "shards did not report in time after cancel");
                    return Ok(SessionEnd::Cancelled);
                }
                m = inbound.message() => match m {
                    Ok(Some(m)) => {
                        last_heard = Instant::now();
                        self.handle(m).await?;
                    }
                    Ok(None) if self.drain_received => return Ok(SessionEnd::Drained),
                    Ok(None) if stop_by.is_some() => return Ok(SessionEnd::Cancelled),
                    Ok(None) => return Err(SessionError::Closed),
                    Err(status) => return Err(SessionError::broken(&status)),
                },
                _ = hb.tick() => {
                    let beat = self.prober.beat(u32::try_from(self.shards.len()).unwrap_or(u32::MAX));
                    self.out()?.try_send(Msg::Heartbeat(beat))?;
                }
                Some(joined) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.reap(joined).await?;
                }
                _ = tokio::time::sleep_until(last_heard + silence) => {
                    return Err(SessionError::Silent(silence));
                }
                _ = down.wait_down() => return Err(SessionError::Link(down.why_down())),
            }
        }
    }

    async fn handle(&mut self, m: CoordinatorMessage) -> Result<(), SessionError> {
        let Some(m) = m.msg else {
            tracing::debug!("empty coordinator message ignored");
            return Ok(());
        };
        match m {
            CMsg::HeartbeatAck(ack) => {
                if let Some(rtt) = self.prober.ack(&ack, &mut self.clock) {
                    tracing::trace!(
                        rtt_us = rtt.as_micros() as u64,
                        offset_us = self.clock.offset_us(),
                        "clock probe"
                    );
                }
            }
            CMsg::Assign(a) => self.assign(a).await?,
            CMsg::Cancel(c) => self.cancel(&c),
            CMsg::Drain(d) => {
                tracing::info!(reason = %d.reason, shards = self.shards.len(), "draining: finishing running shards, taking no new ones");
                self.draining = true;
                self.drain_received = true;
            }
            CMsg::Refused(r) => return Err(SessionError::Refused { reason: r.reason }),
            CMsg::Probe(p) => self.probe(p)?,
            CMsg::Welcome(_) => tracing::warn!("second welcome in one session ignored"),
        }
        Ok(())
    }

    /// Runs a pre-flight probe beside the shards and answers with its result.
    fn probe(&mut self, p: swarm_proto::Probe) -> Result<(), SessionError> {
        let out = self.out()?.clone();
        let cancel = self.shards_cancel.child_token();
        let spec = serde_json::from_slice::<swarm_common::probe::ProbeSpec>(&p.target_json);
        tokio::spawn(async move {
            let result = match spec {
                Ok(spec) => super::probe::run(p.probe_id, spec, &cancel).await,
                Err(e) => swarm_proto::ProbeResult {
                    probe_id: p.probe_id,
                    outcome: swarm_proto::ProbeOutcome::Other as i32,
                    detail: format!("target_json is not a probe spec: {e}"),
                    ..Default::default()
                },
            };
            if let Err(e) = out.send(Msg::ProbeResult(result)).await {
                tracing::warn!(error = %e, "cannot report the probe");
            }
        });
        Ok(())
    }

    async fn fail(&self, shard_id: String, reason: String) -> Result<(), SessionError> {
        tracing::warn!(%shard_id, %reason, "assignment not started");
        self.out()?
            .send(Msg::Failed(ShardFailed { shard_id, reason }))
            .await?;
        Ok(())
    }

    async fn assign(&mut self, a: Assign) -> Result<(), SessionError> {
        let id = a.shard_id;
        if id.is_empty() {
            tracing::warn!("assign without a shard id ignored");
            return Ok(());
        }
        if self.draining {
            let reason = format!(
                "agent {} is draining and takes no new shards",
                self.cfg.agent_id
            );
            return self.fail(id, reason).await;
        }
        if self.shards.contains_key(&id) {
            tracing::warn!(shard_id = %id, "assign for a shard already running here ignored");
            return Ok(());
        }
        let perf_json = match a.spec {
            Some(assign::Spec::PerfJson(json)) => json,
            Some(assign::Spec::EvalJson(json)) => return self.assign_eval(id, &json).await,
            None => {
                let reason = format!("shard {id}: the assignment carries no spec");
                return self.fail(id, reason).await;
            }
        };
        let mut spec: PerfShardSpec = match serde_json::from_slice(&perf_json) {
            Ok(spec) => spec,
            Err(e) => {
                let reason = format!("shard {id}: perf_json is not a perf shard spec: {e}");
                return self.fail(id, reason).await;
            }
        };
        if let Some(tok) = spec.tokenizer.take() {
            match self.cfg.files.tokenizer(&tok) {
                Ok(path) => spec.tokenizer = Some(path),
                Err(reason) => {
                    let reason = format!("shard {id}: {reason}");
                    return self.fail(id, reason).await;
                }
            }
        }
        if spec.shard_id != id {
            tracing::debug!(shard_id = %id, spec_shard_id = %spec.shard_id, "spec names another shard id; the assign's is used");
        }
        let agg = match StageAggregate::new(spec.hist) {
            Ok(agg) => agg,
            Err(e) => {
                let reason = format!("shard {id}: bad histogram settings: {e}");
                return self.fail(id, reason).await;
            }
        };
        let view = self.clock.view();
        let start = if a.start_at_unix_us == 0 {
            None
        } else {
            let local = view.local_instant(a.start_at_unix_us);
            let ahead = local.saturating_duration_since(Instant::now());
            if ahead > MAX_START_DELAY {
                let reason = format!(
                    "shard {id}: start_at_unix_us {} is {:.0} s away (after clock offset {} µs), more than {} s",
                    a.start_at_unix_us,
                    ahead.as_secs_f64(),
                    view.offset_us(),
                    MAX_START_DELAY.as_secs()
                );
                return self.fail(id, reason).await;
            }
            Some(local)
        };
        let cancel = self.shards_cancel.child_token();
        let job = ShardJob {
            shard_id: id.clone(),
            spec,
            start,
            start_at_unix_us: a.start_at_unix_us,
            send_records: a.send_records,
            progress_every: self.progress_every,
            prompts: shard::PromptSource {
                client: self.client.clone(),
                cache: std::sync::Arc::clone(&self.cfg.prompt_cache),
            },
        };
        let out = self.out()?.clone();
        let span = tracing::info_span!("shard", shard_id = %id);
        tracing::info!(parent: &span, start_in_ms = start.map(|s| s.saturating_duration_since(Instant::now()).as_millis() as u64), send_records = a.send_records, "shard assigned");
        let (token, ret) = (cancel.clone(), id.clone());
        let handle = self.tasks.spawn(
            async move {
                shard::run(job, agg, view, out, token).await;
                ret
            }
            .instrument(span),
        );
        self.shards.insert(
            id,
            Running {
                cancel,
                task: handle.id(),
            },
        );
        Ok(())
    }

    /// Starts an eval batch.
    async fn assign_eval(&mut self, id: String, json: &[u8]) -> Result<(), SessionError> {
        let spec: swarm_eval::task::EvalShardSpec = match serde_json::from_slice(json) {
            Ok(spec) => spec,
            Err(e) => {
                let reason = format!("shard {id}: eval_json is not an eval shard spec: {e}");
                return self.fail(id, reason).await;
            }
        };
        let cancel = self.shards_cancel.child_token();
        let out = self.out()?.clone();
        let span = tracing::info_span!("eval_shard", shard_id = %id, benchmark = %spec.benchmark);
        let (token, ret, sid) = (cancel.clone(), id.clone(), id.clone());
        let every = self.progress_every;
        let policy = (self.cfg.agent_id.clone(), self.cfg.sandbox.clone());
        let handle = self.tasks.spawn(
            async move {
                super::eval_shard::run(sid, spec, out, every, token, policy).await;
                ret
            }
            .instrument(span),
        );
        self.shards.insert(
            id,
            Running {
                cancel,
                task: handle.id(),
            },
        );
        Ok(())
    }

    fn cancel(&self, c: &Cancel) {
        if c.shard_id.is_empty() {
            tracing::info!(reason = %c.reason, shards = self.shards.len(), "cancelling every shard");
            for r in self.shards.values() {
                r.cancel.cancel();
            }
        } else if let Some(r) = self.shards.get(&c.shard_id) {
            tracing::info!(shard_id = %c.shard_id, reason = %c.reason, "cancelling shard");
            r.cancel.cancel();
        } else {
            tracing::debug!(shard_id = %c.shard_id, "cancel for a shard not running here");
        }
    }

    /// Forgets a finished runner; a runner that died reports its shard as failed.
    async fn reap(
        &mut self,
        joined: Result<(tokio::task::Id, String), JoinError>,
    ) -> Result<(), SessionError> {
        match joined {
            Ok((_, id)) => {
                self.shards.remove(&id);
                Ok(())
            }
            Err(e) => {
                let task = e.id();
                let Some(id) = self
                    .shards
                    .iter()
                    .find(|(_, r)| r.task == task)
                    .map(|(id, _)| id.clone())
                else {
                    return Ok(());
                };
                self.shards.remove(&id);
                tracing::error!(shard_id = %id, error = %e, "shard runner died");
                let reason = format!("shard {id}: runner stopped abnormally: {e}");
                self.out()?
                    .send(Msg::Failed(ShardFailed {
                        shard_id: id,
                        reason,
                    }))
                    .await?;
                Ok(())
            }
        }
    }

    /// Cancels what still runs, waits for the runners (aborting stragglers), then closes our
    /// half and gives the coordinator a moment to close its half, so nothing queued is lost.
    async fn finish(
        mut self,
        end: Result<SessionEnd, SessionError>,
        mut inbound: tonic::Streaming<CoordinatorMessage>,
    ) -> Result<SessionEnd, SessionError> {
        if end.is_err()
            && let Some(out) = &self.out
        {
            out.mark_down(super::outbox::LinkDown::Closed);
        }
        if !self.tasks.is_empty() {
            tracing::info!(
                shards = self.shards.len(),
                "cancelling shards still running"
            );
            self.shards_cancel.cancel();
            let deadline = Instant::now() + REAP_GRACE;
            while !self.tasks.is_empty() {
                match tokio::time::timeout_at(deadline, self.tasks.join_next()).await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        tracing::warn!(
                            shards = self.tasks.len(),
                            "shard runners did not stop in time; aborting them"
                        );
                        self.tasks.shutdown().await;
                        break;
                    }
                }
            }
            self.shards.clear();
        }
        // every runner's sender is gone; dropping ours ends the request stream
        self.out = None;
        if end.is_ok() {
            let deadline = Instant::now() + CLOSE_GRACE;
            loop {
                match tokio::time::timeout_at(deadline, inbound.message()).await {
                    Ok(Ok(Some(m))) => {
                        if let Some(m) = m.msg {
                            tracing::debug!(kind = kind(&m), "message after close ignored");
                        }
                    }
                    Ok(Ok(None)) => break,
                    Ok(Err(status)) => {
                        tracing::debug!(%status, "stream ended with an error after close");
                        break;
                    }
                    Err(_) => {
                        tracing::debug!("coordinator did not close its half in time");
                        break;
                    }
                }
            }
        }
        end
    }
}
