//! Cancelling a shard (by the coordinator, or the whole agent) still reports what was measured
//! and ends the shard with `stop: "cancelled"`.

use crate::session_fake;

use std::time::Duration;

use session_fake::{Fake, FakeSession, agent_config, closed_spec, paced_sim, total};
use swarm_agent::session::run_agent;
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{Assign, Cancel, Drain, ShardDone, Welcome};
use tokio_util::sync::CancellationToken;

const PLANNED: u64 = 1_000_000;

async fn open(s: &mut FakeSession, sim_url: &str, shard_id: &str) {
    assert!(matches!(s.raw().await, Some(Msg::Hello(_))));
    s.send(CMsg::Welcome(Welcome {
        run_id: "run-c".into(),
        coordinator_unix_us: s.now(),
        heartbeat_ms: 50,
        progress_ms: 20,
    }));
    let spec = closed_spec(sim_url, shard_id, 2, PLANNED, 20.0);
    s.send(CMsg::Assign(Assign {
        shard_id: shard_id.into(),
        spec: Some(swarm_proto::assign::Spec::PerfJson(
            serde_json::to_vec(&spec).unwrap(),
        )),
        start_at_unix_us: 0,
        send_records: false,
    }));
}

/// Reads until the first progress delta, then calls `then`, then reads until Done; returns the
/// progress totals' sum and the Done.
async fn run_until_done(s: &mut FakeSession, then: impl FnOnce(&FakeSession)) -> (u64, ShardDone) {
    let mut then = Some(then);
    let mut sum = 0;
    loop {
        match s.next().await.expect("agent connected") {
            Msg::Started(_) => {}
            Msg::Progress(p) => {
                sum += total(&p.delta);
                if let Some(f) = then.take() {
                    f(s);
                }
            }
            Msg::Done(d) => {
                sum += total(&d.last);
                return (sum, d);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coordinator_cancel_reports_what_was_measured() {
    let cancel = CancellationToken::new();
    let sim = llm_sim::start(
        paced_sim(2.0),
        "127.0.0.1:0".parse().unwrap(),
        cancel.clone(),
    )
    .await
    .unwrap();
    let mut fake = Fake::start().await;
    let mut cfg = agent_config(&fake, "agent-c");
    cfg.max_sessions = Some(1);
    let agent = tokio::spawn(run_agent(cfg, cancel.clone()));
    let mut s = fake.session().await;
    open(&mut s, &sim.url(), "w/s/7").await;
    let (sum, done) = run_until_done(&mut s, |s| {
        // another shard's id first: it must not stop this one
        s.send(CMsg::Cancel(Cancel {
            shard_id: "w/s/other".into(),
            reason: "nope".into(),
        }));
        s.send(CMsg::Cancel(Cancel {
            shard_id: "w/s/7".into(),
            reason: "stage over".into(),
        }));
    })
    .await;
    assert_eq!(done.shard_id, "w/s/7");
    assert_eq!(done.stop, swarm_proto::StopReason::Cancelled as i32);
    assert!(sum > 0 && sum < PLANNED, "{sum}");
    // every request started was finished (cancelled ones included) and counted once
    assert_eq!(sum, done.requests);

    s.send(CMsg::Drain(Drain {
        reason: "done".into(),
    }));
    assert!(s.next().await.is_none());
    s.close();
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent returns after drain")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_cancel_reports_then_closes() {
    let sim_cancel = CancellationToken::new();
    let sim = llm_sim::start(
        paced_sim(2.0),
        "127.0.0.1:0".parse().unwrap(),
        sim_cancel.clone(),
    )
    .await
    .unwrap();
    let mut fake = Fake::start().await;
    let cfg = agent_config(&fake, "agent-d");
    let agent_cancel = CancellationToken::new();
    let agent = tokio::spawn(run_agent(cfg, agent_cancel.clone()));
    let mut s = fake.session().await;
    open(&mut s, &sim.url(), "w/s/8").await;
    let stop = agent_cancel.clone();
    let (sum, done) = run_until_done(&mut s, move |_| stop.cancel()).await;
    assert_eq!(done.stop, swarm_proto::StopReason::Cancelled as i32);
    assert!(sum > 0 && sum < PLANNED, "{sum}");
    assert_eq!(sum, done.requests);
    // the agent closes its half without being drained, and does not come back
    assert!(s.next().await.is_none());
    s.close();
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent returns after cancel")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(fake.opened.load(std::sync::atomic::Ordering::SeqCst), 1);
    sim_cancel.cancel();
}
