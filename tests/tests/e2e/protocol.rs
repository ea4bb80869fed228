//! The protocol's edges, against a real coordinator listener: an agent of another protocol
//! version is refused with a message that says what to do; the `Prompts` call wants the same
//! credentials as a session and serves only the run's own prompt sets, within the message bound.

use std::sync::Arc;
use std::time::Duration;

use swarm_agent::transport::{BearerAuth, client};
use swarm_common::prompt::Prompt;
use swarm_coordinator::cluster::{Cluster, ClusterConfig, PromptSet};
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{AgentMessage, Hello, PromptsRequest};
use tokio_util::sync::CancellationToken;

async fn cluster(cancel: &CancellationToken) -> Cluster {
    let mut cfg = ClusterConfig::local("proto-test", 0);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("sesame".into());
    Cluster::start(cfg, cancel).await.expect("cluster")
}

async fn channel(c: &Cluster) -> tonic::transport::Channel {
    let addr = c.public_addr.expect("public listener");
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_of_another_protocol_version_is_refused_and_told_why() {
    swarm_io::tls::install_crypto_provider();
    let cancel = CancellationToken::new();
    let c = cluster(&cancel).await;
    let mut rpc = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let hello = AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: "old".into(),
            protocol: 1,
            capacity: 1,
            ..Default::default()
        })),
    };
    let mut inbound = rpc
        .session(tokio_stream::iter(vec![hello]))
        .await
        .expect("session call")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), inbound.message())
        .await
        .expect("an answer in time")
        .expect("a message")
        .expect("not the end");
    match first.msg {
        Some(CMsg::Refused(r)) => {
            assert!(
                r.reason.contains("protocol 1 not supported")
                    && r.reason
                        .contains(&format!("speaks {}", swarm_proto::PROTOCOL_VERSION)),
                "{}",
                r.reason
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(c.registry.agents().is_empty(), "the old agent never joined");
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_need_credentials_and_serve_only_the_runs_sets_within_the_bound() {
    swarm_io::tls::install_crypto_provider();
    let cancel = CancellationToken::new();
    let c = cluster(&cancel).await;
    // 400 prompts of ~8 KB: 3.2 MB in all, more than one message may carry
    let prompts: Vec<Prompt> = (0..400)
        .map(|i| Prompt::text(format!("{i:04} {}", "z".repeat(8_000))))
        .collect();
    let set = Arc::new(PromptSet::from_prompts(&prompts).expect("set"));
    c.prompt_sets.insert(Arc::clone(&set));
    let ask = |from: u64| PromptsRequest {
        prompt_set: set.id().to_string(),
        from,
        max_count: 1000,
    };

    let mut stranger = client(channel(&c).await, BearerAuth::new(None).expect("auth"));
    let err = stranger.prompts(ask(0)).await.expect_err("no token");
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err}");

    let mut agent = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let reply = agent.prompts(ask(0)).await.expect("prompts").into_inner();
    assert_eq!(reply.from, 0);
    assert_eq!(reply.total, 400);
    let n = reply.prompts.len();
    assert!(n > 50 && n < 400, "one reply holds {n} prompts");
    let size = prost::Message::encoded_len(&reply);
    assert!(size <= swarm_proto::MAX_MESSAGE_BYTES, "{size} bytes");
    let p: Prompt = serde_json::from_slice(&reply.prompts[7]).expect("a prompt");
    assert_eq!(p, prompts[7]);

    let err = agent.prompts(ask(400)).await.expect_err("past the end");
    assert_eq!(err.code(), tonic::Code::OutOfRange, "{err}");
    let mut other = ask(0);
    other.prompt_set = "0".repeat(64);
    let err = agent.prompts(other).await.expect_err("unknown set");
    assert_eq!(err.code(), tonic::Code::NotFound, "{err}");
    c.shutdown().await;
}

/// A hostile agent in a real stage: it reports for a shard it does not hold (ignored, counted)
/// and then sends a snapshot that cannot be merged for its own shard (it is dropped and its
/// budget re-assigned). The stage completes with every request measured once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_agent_is_dropped_and_the_stage_completes() {
    use swarm_common::metrics::aggregate::HistSettings;
    use swarm_common::schedule::LoadModel;
    use swarm_common::shard::{ApiKind, GenParams};
    use swarm_coordinator::perf::job::{PerfJob, StageSpec};
    use swarm_coordinator::perf::stage::{Group, ProgressMode, run_stage};
    use swarm_proto::{ShardProgress, Snapshot};

    let sim = swarm_tests::start_sim(llm_sim::SimConfig::instant()).await;
    let cancel = CancellationToken::new();
    let mut cfg = ClusterConfig::local("hostile", 1);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("sesame".into());
    let mut c = Cluster::start(cfg, &cancel).await.expect("cluster");
    // the rogue joins like any agent
    let mut rpc = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let (tx, rx) = tokio::sync::mpsc::channel::<AgentMessage>(16);
    tx.send(AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: "rogue".into(),
            protocol: swarm_proto::PROTOCOL_VERSION,
            capacity: 1,
            ..Default::default()
        })),
    })
    .await
    .expect("hello");
    let mut inbound = rpc
        .session(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("session")
        .into_inner();
    let rogue = tokio::spawn(async move {
        while let Ok(Some(m)) = inbound.message().await {
            if let Some(CMsg::Assign(a)) = m.msg {
                // first for the other agent's shard, then garbage for its own
                let other = if a.shard_id.ends_with("/0") {
                    a.shard_id.replace("/0", "/1")
                } else {
                    a.shard_id.replace("/1", "/0")
                };
                let bad = |shard_id: String| AgentMessage {
                    msg: Some(Msg::Progress(ShardProgress {
                        shard_id,
                        seq: 1,
                        delta: Some(Snapshot::default()),
                    })),
                };
                let _ = tx.send(bad(other)).await;
                let _ = tx.send(bad(a.shard_id.clone())).await;
            }
        }
    });
    let agents = c
        .wait_for(2, &Default::default(), Duration::from_secs(10))
        .await
        .expect("both join");
    let prompts: Vec<Prompt> = (0..20).map(|i| Prompt::text(format!("q {i}"))).collect();
    let stage = StageSpec::new(LoadModel::Closed { concurrency: 2 }, Some(40), None);
    let job = PerfJob {
        name: "w".into(),
        target: swarm_tests::sim_target(&sim, ApiKind::Chat),
        gen_params: GenParams {
            stream: true,
            max_tokens: Some(4),
            ..Default::default()
        },
        prompts: Arc::new(PromptSet::from_prompts(&prompts).expect("set")),
        tokenizer: None,
        warmup: 0,
        seed: 1,
        hist: HistSettings::default(),
        stages: vec![stage.clone()],
        sqlite: false,
        goodput: None,
        thresholds: vec![],
        early_stop: Default::default(),
        multi_turn: None,
        outputs: Default::default(),
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run_stage(
        &mut c,
        &job,
        &stage,
        &[Group {
            label: None,
            agents,
        }],
        tmp.path(),
        ProgressMode::Quiet,
        &cancel,
    )
    .await
    .expect("the stage survives the rogue");
    c.shutdown().await;
    rogue.abort();
    sim.shutdown().await;
    assert_eq!(r.summary.total_requests, 40, "{:?}", r.summary);
    assert_eq!(r.summary.success_requests, 40);
    let b = swarm_tests::schemas::read_json(&tmp.path().join("breakdown.json"));
    let events = b["events"].to_string();
    assert!(
        events.contains("agent rogue sent a message that cannot be merged"),
        "{events}"
    );
    assert!(
        events
            .contains("agent rogue: 1 messages for shards its session does not hold were ignored"),
        "{events}"
    );
    assert!(events.contains("re-assigned"), "{events}");
}

/// A hostile agent in an eval: it claims full marks for wrong answers, files them under another
/// benchmark, and adds a prediction for a sample it was never leased. The coordinator scores
/// the answers itself, files them where the lease says, and ignores the stranger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_agent_cannot_score_or_file_eval_predictions() {
    use std::collections::BTreeMap;
    use swarm_eval::task::EvalShardSpec;
    use swarm_proto::{ScoredSamples, ShardDone};

    let sim = swarm_tests::start_sim(llm_sim::SimConfig::instant()).await;
    let cancel = CancellationToken::new();
    let mut cfg = ClusterConfig::local("hostile-eval", 1);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("sesame".into());
    let mut c = Cluster::start(cfg, &cancel).await.expect("cluster");
    let mut rpc = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let (tx, rx) = tokio::sync::mpsc::channel::<AgentMessage>(64);
    tx.send(AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: "rogue".into(),
            protocol: swarm_proto::PROTOCOL_VERSION,
            capacity: 1,
            ..Default::default()
        })),
    })
    .await
    .expect("hello");
    let mut inbound = rpc
        .session(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("session")
        .into_inner();
    let rogue = tokio::spawn(async move {
        let mut seq = 0;
        while let Ok(Some(m)) = inbound.message().await {
            let Some(CMsg::Assign(a)) = m.msg else {
                continue;
            };
            let Some(swarm_proto::assign::Spec::EvalJson(json)) = &a.spec else {
                continue;
            };
            let Ok(spec) = serde_json::from_slice::<EvalShardSpec>(json) else {
                continue;
            };
            let mut lines = Vec::new();
            let stranger = [(format!("{}_stranger", spec.items[0].0.id), 0)];
            let ids = spec
                .items
                .iter()
                .map(|(s, r)| (s.id.clone(), *r))
                .chain(stranger);
            for (id, repeat) in ids {
                let p = serde_json::json!({
                    "benchmark": "hacked", "subset": "hacked", "sample_id": id, "repeat": repeat,
                    "completion": "The answer is \\boxed{999999}", "reasoning": "",
                    "extracted": "999999",
                    "score": {"extracted": "999999", "values": {"acc": 1.0}, "main": "acc"},
                    "prompt_tokens": 1, "completion_tokens": 1, "reasoning_tokens": 0, "latency_us": 1
                });
                lines.extend(serde_json::to_vec(&p).expect("json"));
                lines.push(b'\n');
            }
            seq += 1;
            let _ = tx
                .send(AgentMessage {
                    msg: Some(Msg::Scored(ScoredSamples {
                        shard_id: a.shard_id.clone(),
                        seq,
                        jsonl: lines,
                    })),
                })
                .await;
            let _ = tx
                .send(AgentMessage {
                    msg: Some(Msg::Done(ShardDone {
                        shard_id: a.shard_id,
                        stop: swarm_proto::StopReason::Count as i32,
                        ..Default::default()
                    })),
                })
                .await;
        }
    });
    let agents = c
        .wait_for(2, &Default::default(), Duration::from_secs(10))
        .await
        .expect("both join");
    let (args, _) =
        swarm_tests::keyed_eval::load("gsm8k", swarm_tests::eval_fixture("gsm8k/test.jsonl"), 16);
    let job = swarm_tests::keyed_eval::sim_job(
        "hostile",
        &sim,
        BTreeMap::from([("gsm8k".to_owned(), args)]),
        false,
        2,
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("eval");
    swarm_coordinator::eval::run::run_job(Some(&mut c), &agents, &job, &root, false, &cancel)
        .await
        .expect("the eval completes");
    c.shutdown().await;
    rogue.abort();
    sim.shutdown().await;

    let files: Vec<String> = std::fs::read_dir(root.join("predictions/sim-model"))
        .expect("predictions")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["gsm8k_main.jsonl"], "filed where the lease says");
    let reviews =
        std::fs::read_to_string(root.join("reviews/sim-model/gsm8k_main.jsonl")).expect("reviews");
    let mut rogue_lines = 0;
    for line in reviews.lines() {
        assert!(
            !line.contains("stranger"),
            "an unleased sample was stored: {line}"
        );
        if line.contains("999999") {
            rogue_lines += 1;
            let v: serde_json::Value = serde_json::from_str(line).expect("json");
            assert_eq!(
                v["sample_score"]["score"]["value"]["acc"], 0.0,
                "the coordinator scored the wrong answer itself: {line}"
            );
        }
    }
    assert!(
        rogue_lines > 0,
        "the rogue's answers were stored (scored by us)"
    );
}

/// Two agents with one id cannot replace each other's work: the second is refused while the
/// first session lives, and told why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_agent_with_a_live_id_is_refused() {
    swarm_io::tls::install_crypto_provider();
    let cancel = CancellationToken::new();
    let c = cluster(&cancel).await;
    let hello = || AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: "twin".into(),
            protocol: swarm_proto::PROTOCOL_VERSION,
            capacity: 1,
            ..Default::default()
        })),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<AgentMessage>(4);
    tx.send(hello()).await.expect("hello");
    let mut first = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let mut first_in = first
        .session(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("session")
        .into_inner();
    let welcome = first_in.message().await.expect("ok").expect("a message");
    assert!(matches!(welcome.msg, Some(CMsg::Welcome(_))), "{welcome:?}");

    let mut second = client(
        channel(&c).await,
        BearerAuth::new(Some("sesame")).expect("auth"),
    );
    let mut second_in = second
        .session(tokio_stream::iter(vec![hello()]))
        .await
        .expect("session call")
        .into_inner();
    let answer = tokio::time::timeout(Duration::from_secs(5), second_in.message())
        .await
        .expect("in time")
        .expect("ok")
        .expect("a message");
    match answer.msg {
        Some(CMsg::Refused(r)) => assert!(r.reason.contains("already connected"), "{}", r.reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        c.registry.agents().len(),
        1,
        "the first session is untouched"
    );
    drop(tx);
    c.shutdown().await;
}
