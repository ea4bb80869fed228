//! A stage as the scheduler core's [`Work`]: what each agent message does to the stage.

use super::*;

impl Work for Ctx<'_> {
    type Unit = ();

    fn parts(&mut self) -> (&mut Cluster, &mut Holdings<()>) {
        (self.cluster, &mut self.held)
    }

    fn on_message(
        &mut self,
        agent_id: &str,
        session: u64,
        msg: Msg,
        stopping: bool,
    ) -> anyhow::Result<()> {
        // only the session a shard was assigned to speaks for it; a perf stage has no eval
        // batches, so scored samples are foreign too
        if let Msg::Scored(s) = &msg {
            self.held.count_foreign(agent_id);
            let warning = "scored samples in a perf stage, ignored";
            tracing::warn!(agent_id, session, shard = %s.shard_id, "{warning}");
            return Ok(());
        }
        if let Some(id) = shard_of(&msg)
            && self.held.voice(id, agent_id, session) != Voice::Holder
        {
            let warning = "message for a shard this session does not hold, ignored";
            tracing::warn!(agent_id, session, shard = id, "{warning}");
            return Ok(());
        }
        // a snapshot that cannot be merged drops its agent, never the stage
        let delta = match delta_of(&msg, self.job.hist) {
            Ok(delta) => delta,
            Err(e) => return self.drop_agent(agent_id, session, &e),
        };
        match msg {
            Msg::Started(s) => started(&mut self.book, &s),
            Msg::Progress(p) => self.merge(&p.shard_id, p.seq, &delta)?,
            Msg::Records(b) => records(&mut self.book, self.writer.as_ref(), agent_id, &b)?,
            Msg::Done(d) => {
                self.merge(&d.shard_id, d.seq, &delta)?;
                let id = d.shard_id.clone();
                let was_running = self.held.release(&id).is_some();
                let Some(s) = self.book.shards.get_mut(&id) else {
                    return Ok(());
                };
                // a lost shard's budget was re-assigned when it was lost: its late end must not
                // re-assign it again (a `cancelled` stop would), only say what was discarded
                if s.status == ShardStatus::Lost {
                    let late = s.late;
                    if late > 0 {
                        self.note(format!("shard {id}: agent {agent_id} came back after the shard was re-assigned; its {late} late requests were discarded"));
                    }
                    return Ok(());
                }
                let stop = swarm_proto::StopReason::try_from(d.stop)
                    .unwrap_or(swarm_proto::StopReason::Unspecified);
                s.link = Some(link_of(&d));
                if s.status == ShardStatus::Running {
                    s.status = ShardStatus::Done(stop);
                }
                if stop == swarm_proto::StopReason::Cancelled && !stopping && was_running {
                    // the agent stopped on its own (shutdown, lost link): finish its budget elsewhere
                    self.note(format!("shard {id} stopped early on agent {agent_id}"));
                    self.salvage(agent_id, vec![id])?;
                }
            }
            Msg::Failed(f) => {
                self.held.release(&f.shard_id);
                if let Some(s) = self.book.shards.get_mut(&f.shard_id) {
                    s.status = ShardStatus::Failed(f.reason.clone());
                }
                let (id, why) = (&f.shard_id, &f.reason);
                self.note(format!("shard {id} failed on agent {agent_id}: {why}"));
            }
            Msg::Hello(_) | Msg::Heartbeat(_) | Msg::Scored(_) | Msg::ProbeResult(_) => {}
        }
        Ok(())
    }

    fn on_lost(
        &mut self,
        (agent, _): (&str, u64),
        why: &str,
        units: Vec<(String, ())>,
        _: bool,
    ) -> anyhow::Result<()> {
        self.lost(agent, why, units.into_iter().map(|(id, ())| id).collect())
    }

    fn on_joined(&mut self, a: AgentInfo) {
        let id = &a.id;
        tracing::info!(agent_id = %id, "agent joined during a stage; it will take part from the next stage");
    }

    fn on_tick(&mut self, stopping: bool) -> Option<String> {
        self.live.update(self.cluster, &self.book.whole);
        let c = &self.book.whole.counters;
        let why = self
            .job
            .early_stop
            .verdict(c.total, c.failed)
            .filter(|_| !stopping)?;
        self.note(format!("stopped early: {why}"));
        Some(why)
    }

    fn on_cancel(&mut self) {
        self.note("run cancelled: stopping shards, keeping what they measured".into());
    }
}
