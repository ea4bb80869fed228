//! The distributed path in one process: a coordinator cluster with three in-process agents
//! talking real gRPC over loopback, llm-sim as the target.

use std::sync::Arc;
use std::time::Duration;
use swarm_common::metrics::aggregate::Metric;

use llm_sim::{Dist, SimConfig};
use rusqlite::Connection;
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{ApiKind, GenParams};
use swarm_coordinator::cluster::PromptSet;
use swarm_coordinator::cluster::{Cluster, ClusterConfig};
use swarm_coordinator::perf::job::{PerfJob, StageSpec};
use swarm_coordinator::perf::stage::{Group, ProgressMode, run_stage};
use swarm_tests::schemas::read_json;
use swarm_tests::{sim_target, start_sim};
use tokio_util::sync::CancellationToken;

fn job(sim: &llm_sim::SimHandle, stage: StageSpec) -> PerfJob {
    PerfJob {
        name: "w".into(),
        target: sim_target(sim, ApiKind::Chat),
        gen_params: GenParams {
            stream: true,
            max_tokens: Some(8),
            ..Default::default()
        },
        prompts: Arc::new(
            PromptSet::from_prompts(
                &(0..50)
                    .map(|i| Prompt::text(format!("question {i}")))
                    .collect::<Vec<_>>(),
            )
            .expect("prompt set"),
        ),
        tokenizer: None,
        warmup: 0,
        seed: 3,
        hist: HistSettings::default(),
        stages: vec![stage],
        sqlite: true,
        goodput: None,
        thresholds: vec![],
        early_stop: Default::default(),
        multi_turn: None,
        outputs: Default::default(),
    }
}

fn sim_config(itl_ms: f64) -> SimConfig {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = Dist::fixed(2.0);
    cfg.latency.itl_ms = Dist::fixed(itl_ms);
    cfg
}

async fn cluster_of(n: u32, cancel: &CancellationToken) -> (Cluster, Vec<Group>) {
    let mut cfg = ClusterConfig::local("test", n);
    cfg.heartbeat_ms = 100;
    cfg.progress_ms = 100;
    // a killed agent is noticed by its broken stream at once; the heartbeat timeout only has to
    // spare live agents on a loaded machine (2 s was once too short at load average 15)
    cfg.heartbeat_timeout = Duration::from_secs(10);
    let mut cluster = Cluster::start(cfg, cancel).await.expect("cluster starts");
    let agents = cluster
        .wait_for(n as usize, &Default::default(), Duration::from_secs(10))
        .await
        .expect("agents join");
    (
        cluster,
        vec![Group {
            label: None,
            agents,
        }],
    )
}

fn nearest(sorted: &[f64], p: f64) -> (f64, f64) {
    let n = sorted.len();
    let i = ((n as f64 * p / 100.0) as usize).min(n - 1);
    (sorted[i.saturating_sub(1)], sorted[(i + 1).min(n - 1)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_agents_merge_exactly() {
    let sim = start_sim(sim_config(1.0)).await;
    let cancel = CancellationToken::new();
    let (mut cluster, groups) = cluster_of(3, &cancel).await;
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 6 }, Some(300), None);
    let job = job(&sim, stage.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("stage");
    let r = run_stage(
        &mut cluster,
        &job,
        &stage,
        &groups,
        &dir,
        ProgressMode::Quiet,
        &cancel,
    )
    .await
    .expect("stage runs");
    cluster.shutdown().await;
    sim.shutdown().await;

    assert_eq!(r.stopped, "count");
    assert_eq!(r.summary.total_requests, 300);
    assert_eq!(r.summary.success_requests, 300);
    let breakdown = read_json(&dir.join("breakdown.json"));
    let agents = breakdown["agents"].as_object().expect("agents");
    assert_eq!(agents.len(), 3);
    let per_agent: Vec<u64> = agents
        .values()
        .map(|a| a["evalscope"]["Total Requests"].as_u64().expect("n"))
        .collect();
    assert_eq!(per_agent.iter().sum::<u64>(), 300);
    assert!(
        per_agent.iter().all(|&n| n == 100),
        "split 300 over 3 equal agents: {per_agent:?}"
    );

    // the merged table equals the one computed from every agent's per-request records
    let db = Connection::open(dir.join("requests.sqlite")).expect("sqlite");
    let (rows, shards): (i64, i64) = db
        .query_row(
            "SELECT count(*), count(DISTINCT shard) FROM requests",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    assert_eq!((rows, shards), (300, 3));
    let tokens: i64 = db
        .query_row("SELECT sum(completion_tokens) FROM requests", [], |r| {
            r.get(0)
        })
        .expect("sum");
    assert_eq!(
        r.summary.avg_output_tokens.expect("num") * 300.0,
        tokens as f64
    );
    for (column, key, div) in [
        ("latency_us", Metric::Latency, 1e6),
        ("ttft_us", Metric::Ttft, 1e3),
    ] {
        let mut v: Vec<f64> = db
            .prepare(&format!("SELECT {column} FROM requests"))
            .expect("prepare")
            .query_map([], |r| r.get::<_, i64>(0))
            .expect("query")
            .map(|x| x.expect("row") as f64 / div)
            .collect();
        v.sort_by(f64::total_cmp);
        for row in &r.percentiles {
            let label = row.percentile.as_str();
            let got = row.get(key).expect("num");
            let (lo, hi) = match label {
                "min" => (v[0], v[0]),
                "max" => (v[v.len() - 1], v[v.len() - 1]),
                l => nearest(&v, l.trim_end_matches('%').parse().expect("pct")),
            };
            assert!(
                got >= lo * 0.999 - 1e-4 && got <= hi * 1.001 + 1e-4,
                "{key:?} {label}: {got} not in [{lo}, {hi}]"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_an_agent_mid_stage_loses_nothing_and_counts_nothing_twice() {
    let sim = start_sim(sim_config(5.0)).await;
    let cancel = CancellationToken::new();
    let (mut cluster, groups) = cluster_of(3, &cancel).await;
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 12 }, Some(600), None);
    let job = job(&sim, stage.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("stage");
    let agents = cluster.local_agents();
    let killer = async move {
        // each request takes ~40 ms and the stage ~2 s: kill agent 1 after ~0.7 s of load
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(agents.kill(1));
    };
    let (r, ()) = tokio::join!(
        run_stage(
            &mut cluster,
            &job,
            &stage,
            &groups,
            &dir,
            ProgressMode::Quiet,
            &cancel
        ),
        killer
    );
    let r = r.expect("the stage completes without the agent");
    cluster.shutdown().await;
    sim.shutdown().await;

    // every planned request was counted exactly once: reported by the dead agent before it
    // died, or re-sent by the survivors
    assert_eq!(r.summary.total_requests, 600, "{}", r.stopped);
    let breakdown = read_json(&dir.join("breakdown.json"));
    let events: Vec<String> = breakdown["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["what"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        events.iter().any(|e| e.contains("agent local-1 lost")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| e.contains("re-assigned")),
        "{events:?}"
    );
    let shards = breakdown["shards"].as_array().expect("shards");
    let reported: u64 = shards
        .iter()
        .map(|s| s["reported"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(reported, 600);
    assert!(
        shards
            .iter()
            .any(|s| s["status"] == "lost" && s["agent"] == "local-1")
    );
    assert!(shards.len() > 3, "re-assigned shards were added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_stops_agents_and_keeps_what_was_measured() {
    let sim = start_sim(sim_config(5.0)).await;
    let cancel = CancellationToken::new();
    let (mut cluster, groups) = cluster_of(2, &cancel).await;
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 4 }, Some(10_000), None);
    let job = job(&sim, stage.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("stage");
    let run_cancel = CancellationToken::new();
    let stopper = run_cancel.clone();
    let ctrl_c = async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stopper.cancel();
    };
    let (r, ()) = tokio::join!(
        run_stage(
            &mut cluster,
            &job,
            &stage,
            &groups,
            &dir,
            ProgressMode::Quiet,
            &run_cancel
        ),
        ctrl_c
    );
    let r = r.expect("a cancelled stage still reports");
    cluster.shutdown().await;
    sim.shutdown().await;
    assert!(r.stopped.contains("cancelled"), "{}", r.stopped);
    let total = r.summary.total_requests;
    assert!(total > 0 && total < 10_000, "{total}");
    let on_disk = read_json(&dir.join("benchmark_summary.json"));
    assert_eq!(on_disk["Total Requests"], total);
    let db = Connection::open(dir.join("requests.sqlite")).expect("sqlite");
    let rows: i64 = db
        .query_row("SELECT count(*) FROM requests", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows as u64, total, "every counted request has its record");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_comes_back_takes_part_in_later_stages() {
    use swarm_agent::session::{AgentConfig, run_agent};
    use swarm_coordinator::perf::stage::ProgressMode;
    use swarm_coordinator::perf::sweep::{Display, run_sweep};
    let sim = start_sim(sim_config(5.0)).await;
    let cancel = CancellationToken::new();
    let mut cfg = ClusterConfig::local("rejoin", 0);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("rejoin-token".into());
    cfg.heartbeat_ms = 100;
    cfg.progress_ms = 100;
    cfg.heartbeat_timeout = Duration::from_secs(10);
    let mut cluster = Cluster::start(cfg, &cancel).await.expect("cluster");
    let url = format!("http://{}", cluster.public_addr.expect("listener"));
    let agent = |life: &CancellationToken, id: &str| {
        let mut a = AgentConfig::new(url.clone(), id);
        a.token = cluster.config.token.clone();
        a.reconnect = swarm_agent::session::Backoff {
            initial: Duration::from_millis(50),
            max: Duration::from_millis(200),
        };
        tokio::spawn(run_agent(a, life.clone()))
    };
    let steady = CancellationToken::new();
    let first_life = CancellationToken::new();
    let _a = agent(&steady, "steady");
    let _b = agent(&first_life, "phoenix");
    let agents = cluster
        .wait_for(2, &Default::default(), Duration::from_secs(10))
        .await
        .expect("both join");
    let groups = vec![Group {
        label: None,
        agents,
    }];
    let mut job = job(
        &sim,
        StageSpec::new(LoadModel::Closed { concurrency: 4 }, Some(400), None),
    );
    job.stages.push(StageSpec::new(
        LoadModel::Closed { concurrency: 4 },
        Some(40),
        None,
    ));
    let tmp = tempfile::tempdir().expect("tempdir");
    let run_dir = tmp.path().to_path_buf();
    // "phoenix" dies during the first stage and is started again at once (a restarted pod)
    let watcher = {
        let run_dir = run_dir.clone();
        let url = url.clone();
        let token = cluster.config.token.clone();
        tokio::spawn(async move {
            let live = run_dir.join("perf/w");
            for _ in 0..400 {
                if std::fs::read_dir(&live).is_ok_and(|d| d.count() > 1) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            first_life.cancel();
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mut a = AgentConfig::new(url, "phoenix");
            a.token = token;
            let second_life = CancellationToken::new();
            let h = tokio::spawn(run_agent(a, second_life.clone()));
            (h, second_life)
        })
    };
    let display = Display {
        progress: ProgressMode::Quiet,
        tables: false,
    };
    let results = run_sweep(&mut cluster, &groups, &job, &run_dir, display, &cancel)
        .await
        .expect("the sweep runs");
    let (_h, second_life) = watcher.await.expect("watcher");
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0].summary.total_requests, 400,
        "{}",
        results[0].stopped
    );
    assert_eq!(results[1].summary.total_requests, 40);
    let second = read_json(&run_dir.join(format!("perf/w/{}/breakdown.json", job.stages[1].name)));
    let agents: Vec<&str> = second["agents"]
        .as_object()
        .expect("agents")
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        agents.contains(&"phoenix") && agents.contains(&"steady"),
        "the agent that came back ran part of the next stage: {agents:?}"
    );
    second_life.cancel();
    steady.cancel();
    cluster.shutdown().await;
    sim.shutdown().await;
}
