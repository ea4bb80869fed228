//! Ramps inside a shard, run by the executor against the simulator: an open-loop rate ramp's
//! arrivals per second and a closed-loop users ramp's requests in flight.

use std::sync::Arc;

use crate::session_fake::{closed_spec, fake_prompts, paced_sim};
use swarm_agent::perf::{ShardEvent, run_shard};
use swarm_common::metrics::RequestRecord;
use swarm_common::ramp::{Ramp, RampStrategy, ShardRamp};
use swarm_common::schedule::{Arrival, LoadModel};
use tokio_util::sync::CancellationToken;

async fn run(spec: swarm_common::shard::PerfShardSpec) -> Vec<RequestRecord> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let out = run_shard(spec, Arc::new(fake_prompts()), None, tx, cancel)
        .await
        .expect("runs");
    let mut recs = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let ShardEvent::Record(r) = ev {
            recs.push(r);
        }
    }
    assert_eq!(recs.len() as u64, out.requests);
    recs
}

fn linear(from: f64, to: f64, over_s: f64) -> Ramp {
    Ramp {
        from,
        to,
        over_s: Some(over_s),
        strategy: RampStrategy::Linear,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_ramp_over_4_s_sends_the_expected_requests_each_second() {
    let cancel = CancellationToken::new();
    let sim = llm_sim::start(
        paced_sim(2.0),
        "127.0.0.1:0".parse().unwrap(),
        cancel.clone(),
    )
    .await
    .unwrap();
    // 10 → 50 req/s over 4 s, this shard half of a two-agent stage: 5 → 25 req/s, so the
    // expected arrivals per second are ∫ = 7.5, 12.5, 17.5, 22.5
    let mut spec = closed_spec(&sim.url(), "w/ramp/0", 1, 1_000_000, 4.0);
    spec.load = LoadModel::Open {
        rate: 50.0,
        arrival: Arrival::Poisson,
        max_concurrency: None,
    };
    spec.number = None;
    spec.seed = 11;
    spec.ramp = Some(ShardRamp::whole(linear(10.0, 50.0, 4.0)).split(&[1, 1], 0));
    let recs = run(spec).await;
    let mut per_s = [0u64; 4];
    for r in &recs {
        let at = r.scheduled_us.expect("open loop") as f64 / 1e6;
        // sent on time (the simulator answers in ~10 ms, nothing queues)
        assert!(r.sent_us as f64 / 1e6 - at < 0.25, "sent late: {r:?}");
        if let Some(k) = per_s.get_mut(at as usize) {
            *k += 1;
        }
    }
    for (k, want) in [7.5f64, 12.5, 17.5, 22.5].into_iter().enumerate() {
        // a Poisson count: within 4 standard deviations (the seed is fixed, so this is stable)
        let bound = 4.0 * want.sqrt();
        let got = per_s[k] as f64;
        assert!(
            (got - want).abs() <= bound,
            "second {k}: {got} arrivals, expected {want} ± {bound:.1} ({per_s:?})"
        );
    }
    assert!(per_s[3] > per_s[0], "the rate rises: {per_s:?}");
    cancel.cancel();
}

/// Requests in flight at `t` seconds.
fn in_flight(recs: &[RequestRecord], t: f64) -> usize {
    let us = (t * 1e6) as u64;
    recs.iter()
        .filter(|r| r.sent_us <= us && us < r.sent_us + r.latency_us)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_ramp_adds_users_as_the_ramp_says() {
    let cancel = CancellationToken::new();
    // ~25 ms a request: busy users are nearly always in flight
    let sim = llm_sim::start(
        paced_sim(20.0),
        "127.0.0.1:0".parse().unwrap(),
        cancel.clone(),
    )
    .await
    .unwrap();
    // the stage ramps 0 → 6 users over 2 s (round(3t)) and holds 1 s; this shard is agent 1
    // of weights [1, 1, 1]: 1 user once the stage has 2 (t ≥ 0.5 s), 2 once it has 5 (1.5 s)
    let mut spec = closed_spec(&sim.url(), "w/users/1", 2, 1_000_000, 3.0);
    spec.ramp = Some(ShardRamp::whole(linear(0.0, 6.0, 2.0)).split(&[1, 1, 1], 1));
    let part = spec.ramp.clone().expect("ramp");
    let recs = run(spec).await;
    assert!(!recs.is_empty());
    for i in 0..30 {
        let t = 0.05 + f64::from(i) * 0.1;
        let users = part.users_at(t) as usize;
        let settled = part.users_at(t - 0.08) as usize == users;
        let n = in_flight(&recs, t);
        // never more than the ramp allows (a user ramped down only finishes its request;
        // this ramp only goes up), and once settled about as many
        assert!(n <= users, "at {t}: {n} in flight, ramp allows {users}");
        if settled {
            assert!(n + 1 >= users, "at {t}: {n} in flight, ramp wants {users}");
        }
    }
    assert_eq!(part.users_at(0.0), 0);
    assert_eq!(part.users_at(2.5), 2);
    cancel.cancel();
}
