//! A refused or broken session is retried with backoff; a broken one stops its shards first.

use crate::session_fake;

use std::sync::atomic::Ordering;
use std::time::Duration;

use session_fake::{Fake, agent_config, closed_spec, paced_sim};
use swarm_agent::session::run_agent;
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{Assign, Drain, Refused, Welcome};
use tokio_util::sync::CancellationToken;

fn welcome(now: u64) -> CMsg {
    CMsg::Welcome(Welcome {
        run_id: "run-r".into(),
        coordinator_unix_us: now,
        heartbeat_ms: 20,
        progress_ms: 20,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_is_retried_until_max_sessions_and_named() {
    let mut fake = Fake::start().await;
    let mut cfg = agent_config(&fake, "agent-r");
    cfg.max_sessions = Some(2);
    let agent = tokio::spawn(run_agent(cfg, CancellationToken::new()));
    for n in 1..=2 {
        let mut s = fake.session().await;
        assert_eq!(s.n, n);
        assert!(s.authorization.is_none(), "no token configured");
        let Some(Msg::Hello(h)) = s.raw().await else {
            panic!("session {n}: no hello")
        };
        assert_eq!(h.agent_id, "agent-r");
        s.send(CMsg::Refused(Refused {
            reason: "protocol 1 is not spoken here".into(),
        }));
        s.close();
    }
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent gives up after max_sessions")
        .unwrap();
    let e = format!("{:#}", r.unwrap_err());
    assert!(e.contains("protocol 1 is not spoken here"), "{e}");
    assert!(e.contains("after 2 sessions"), "{e}");
    assert_eq!(fake.opened.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_stream_cancels_shards_and_reconnects() {
    let cancel = CancellationToken::new();
    let mut sim_cfg = paced_sim(2.0);
    sim_cfg.record_truth = true;
    let sim = llm_sim::start(sim_cfg, "127.0.0.1:0".parse().unwrap(), cancel.clone())
        .await
        .unwrap();
    let mut fake = Fake::start().await;
    let mut cfg = agent_config(&fake, "agent-b");
    cfg.max_sessions = Some(3);
    let agent = tokio::spawn(run_agent(cfg, cancel.clone()));

    // session 1: a shard that would run for 20 s; the stream breaks once it reports progress
    let mut s1 = fake.session().await;
    assert!(matches!(s1.raw().await, Some(Msg::Hello(_))));
    s1.send(welcome(s1.now()));
    let spec = closed_spec(&sim.url(), "long", 2, 1_000_000, 20.0);
    s1.send(CMsg::Assign(Assign {
        shard_id: "long".into(),
        spec: Some(swarm_proto::assign::Spec::PerfJson(
            serde_json::to_vec(&spec).unwrap(),
        )),
        start_at_unix_us: 0,
        send_records: false,
    }));
    loop {
        match s1.next().await.expect("agent connected") {
            Msg::Started(_) => {}
            Msg::Progress(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    s1.abort(tonic::Status::unavailable("coordinator restarting"));

    // session 2: the agent is back, with nothing running
    let mut s2 = fake.session().await;
    assert_eq!(s2.n, 2);
    assert!(matches!(s2.raw().await, Some(Msg::Hello(_))));
    // the old shard's load stopped: the simulator sees no new requests
    let before = sim.truth.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sim.truth.len(),
        before,
        "the broken session's shard still sends"
    );
    assert!(before > 0);
    s2.send(welcome(s2.now()));
    let Some(Msg::Heartbeat(hb)) = s2.raw().await else {
        panic!("no heartbeat")
    };
    assert_eq!(hb.shards_running, 0);
    s2.send(CMsg::Drain(Drain {
        reason: "done".into(),
    }));
    assert!(s2.next().await.is_none(), "agent closes after drain");
    s2.close();
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent returns after drain")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(fake.opened.load(Ordering::SeqCst), 2);
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staying_agent_serves_the_next_run_after_a_drain() {
    let mut fake = Fake::start().await;
    let mut cfg = agent_config(&fake, "agent-s");
    cfg.stay = true;
    let cancel = CancellationToken::new();
    let agent = tokio::spawn(run_agent(cfg, cancel.clone()));
    for n in 1..=2 {
        let mut s = fake.session().await;
        assert_eq!(s.n, n);
        assert!(matches!(s.raw().await, Some(Msg::Hello(_))));
        s.send(welcome(s.now()));
        s.send(CMsg::Drain(Drain {
            reason: format!("run {n} done"),
        }));
        assert!(
            s.next().await.is_none(),
            "agent closes its session on drain"
        );
        s.close();
    }
    // a third session shows it is still waiting for runs; cancel ends it cleanly
    let s3 = fake.session().await;
    assert_eq!(s3.n, 3);
    cancel.cancel();
    let r = tokio::time::timeout(Duration::from_secs(5), agent)
        .await
        .expect("agent stops on cancel")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_gives_up_when_no_session_opens_in_time() {
    // a port nothing listens on: every dial is refused
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg =
        swarm_agent::session::AgentConfig::new(format!("http://127.0.0.1:{port}"), "agent-g");
    cfg.reconnect = swarm_agent::session::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    };
    cfg.give_up_after = Some(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        run_agent(cfg, CancellationToken::new()),
    )
    .await
    .expect("agent gives up before the test's deadline");
    let e = format!("{:#}", r.unwrap_err());
    assert!(e.contains("giving up"), "{e}");
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(started.elapsed() >= Duration::from_millis(500));
}
