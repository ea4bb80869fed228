//! An agent takes a shard from a (fake) coordinator, runs it against the simulator, and reports
//! exactly what it measured: on the coordinator's clock, in gap-free sequences, then drains.

use crate::session_fake;

use std::collections::BTreeSet;

use session_fake::{Fake, agent_config, closed_spec, paced_sim, total};
use swarm_agent::session::{PROTOCOL_VERSION, run_agent};
use swarm_common::metrics::aggregate::{HistSettings, Metric};
use swarm_common::metrics::{RequestRecord, StageAggregate};
use swarm_common::wire::from_snapshot;
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{Assign, Drain, Welcome};
use tokio_util::sync::CancellationToken;

/// The fake coordinator's clock runs this far ahead of the agent's.
const SKEW_US: i64 = 5_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_shard_reports_exactly_what_it_measured() {
    let cancel = CancellationToken::new();
    // ~13 ms a request: 50 requests by 4 users outlast the Drain's round trip
    let sim = llm_sim::start(
        paced_sim(5.0),
        "127.0.0.1:0".parse().unwrap(),
        cancel.clone(),
    )
    .await
    .unwrap();
    let mut fake = Fake::start().await;
    let mut cfg = agent_config(&fake, "agent-a");
    cfg.labels.insert("region".into(), "test-1".into());
    cfg.capacity = 3;
    cfg.token = Some("t0k-1".into());
    cfg.max_sessions = Some(1);
    let agent = tokio::spawn(run_agent(cfg, cancel.clone()));

    let mut s = fake.session().await;
    s.skew_us = SKEW_US;
    assert_eq!(s.authorization.as_deref(), Some("Bearer t0k-1"));
    let Some(Msg::Hello(hello)) = s.raw().await else {
        panic!("first message is not hello")
    };
    assert_eq!(hello.agent_id, "agent-a");
    assert_eq!(
        hello.labels.get("region").map(String::as_str),
        Some("test-1")
    );
    assert_eq!(hello.labels.len(), 1);
    assert_eq!(hello.capacity, 3);
    assert_eq!(hello.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(hello.protocol, PROTOCOL_VERSION);
    assert_eq!(PROTOCOL_VERSION, 3);
    s.send(CMsg::Welcome(Welcome {
        run_id: "run-1".into(),
        coordinator_unix_us: s.now(),
        heartbeat_ms: 20,
        progress_ms: 10,
    }));

    // a spec that does not parse is reported, and the session carries on
    s.send(CMsg::Assign(Assign {
        shard_id: "bad".into(),
        spec: Some(swarm_proto::assign::Spec::PerfJson(
            br#"{"shard_id": 1}"#.to_vec(),
        )),
        start_at_unix_us: 0,
        send_records: false,
    }));
    let Some(Msg::Failed(f)) = s.next().await else {
        panic!("bad spec not reported as failed")
    };
    assert_eq!(f.shard_id, "bad");
    assert!(
        f.reason.contains("shard bad") && f.reason.contains("perf_json"),
        "{}",
        f.reason
    );

    // let a few heartbeats tune the clock estimate, then assign with a start 300 ms ahead
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let spec = closed_spec(&sim.url(), "w/s/0", 4, 50, 30.0);
    let start_at = s.now() + 300_000;
    s.send(CMsg::Assign(Assign {
        shard_id: "w/s/0".into(),
        spec: Some(swarm_proto::assign::Spec::PerfJson(
            serde_json::to_vec(&spec).unwrap(),
        )),
        start_at_unix_us: start_at,
        send_records: true,
    }));

    let mut started = None;
    let mut seqs = Vec::new();
    let mut record_seqs = Vec::new();
    let mut snapshots = Vec::new();
    let mut records: Vec<RequestRecord> = Vec::new();
    let mut sum = 0u64;
    let mut late_refused = false;
    let done = loop {
        match s.next().await.expect("agent still connected") {
            Msg::Started(st) => {
                assert_eq!(st.shard_id, "w/s/0");
                assert!(started.is_none(), "started twice");
                assert!(seqs.is_empty(), "progress before started");
                started = Some(st);
                // drain now: the running shard must still finish
                s.send(CMsg::Drain(Drain {
                    reason: "test over".into(),
                }));
                s.send(CMsg::Assign(Assign {
                    shard_id: "late".into(),
                    spec: Some(swarm_proto::assign::Spec::PerfJson(
                        serde_json::to_vec(&spec).unwrap(),
                    )),
                    start_at_unix_us: 0,
                    send_records: false,
                }));
            }
            Msg::Progress(p) => {
                assert_eq!(p.shard_id, "w/s/0");
                seqs.push(p.seq);
                let t = total(&p.delta);
                assert!(t > 0, "empty progress delta {}", p.seq);
                sum += t;
                snapshots.push(p.delta.unwrap());
            }
            Msg::Records(b) => {
                assert_eq!(b.shard_id, "w/s/0");
                record_seqs.push(b.seq);
                for r in &b.records {
                    records.push(RequestRecord::try_from(r).expect("a valid record"));
                }
            }
            Msg::Failed(f) => {
                assert_eq!(f.shard_id, "late", "{}", f.reason);
                assert!(f.reason.contains("draining"), "{}", f.reason);
                late_refused = true;
            }
            Msg::Done(d) => break d,
            other => panic!("unexpected {other:?}"),
        }
    };

    let started = started.expect("started was sent");
    assert!(
        late_refused,
        "an assign after drain is refused while the shard runs"
    );
    // the start is on the coordinator's (skewed) clock: 5 s off if the offset were ignored
    assert_eq!(
        started.epoch_unix_us as i64 - start_at as i64,
        started.start_skew_us
    );
    assert!(
        started.start_skew_us.abs() < 200_000,
        "start skew {} µs",
        started.start_skew_us
    );

    assert_eq!(done.shard_id, "w/s/0");
    assert_eq!(done.stop, swarm_proto::StopReason::Count as i32);
    assert_eq!(done.requests, 50);
    seqs.push(done.seq);
    sum += total(&done.last);
    snapshots.push(done.last.clone().unwrap());
    assert_eq!(sum, 50, "progress + done totals");
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    assert_eq!(
        record_seqs,
        (1..=record_seqs.len() as u64).collect::<Vec<_>>()
    );

    assert_eq!(records.len(), 50);
    let ids: BTreeSet<u64> = records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 50, "record ids are distinct");
    assert!(records.iter().all(|r| r.is_success()));

    // the snapshots merge into the whole shard, stamped on the coordinator's clock
    let mut merged = StageAggregate::new(HistSettings::default()).unwrap();
    for snap in &snapshots {
        merged
            .merge(&from_snapshot(snap, HistSettings::default()).unwrap())
            .unwrap();
    }
    assert_eq!(merged.counters.total, 50);
    assert_eq!(merged.counters.success, 50);
    assert_eq!(merged.hist(Metric::Latency).len(), 50);
    let first = merged.counters.first_send_unix_us.unwrap();
    assert!(
        first >= started.epoch_unix_us && first < started.epoch_unix_us + 10_000_000,
        "first send {first} vs epoch {}",
        started.epoch_unix_us
    );

    // drained: the agent closes its half and run_agent returns Ok
    assert!(s.next().await.is_none(), "agent closes after drain");
    s.close();
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), agent)
        .await
        .expect("agent returns after drain")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert!(!s.heartbeats.is_empty());
    assert!(s.heartbeats.iter().all(|h| h.agent_unix_us > 0));
    assert_eq!(fake.opened.load(std::sync::atomic::Ordering::SeqCst), 1);
    cancel.cancel();
}
