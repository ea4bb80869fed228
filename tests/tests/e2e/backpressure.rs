//! A hostile agent cannot make the coordinator hold its messages without bound: what waits for
//! the orchestrator is capped per session (the session's reader stops, HTTP/2 flow control holds
//! the agent), and an agent that does not read its own messages is dropped, not buffered for.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use swarm_agent::transport::{BearerAuth, client};
use swarm_coordinator::cluster::registry::INBOUND_BUDGET_BYTES;
use swarm_coordinator::cluster::{Cluster, ClusterConfig};
use swarm_proto::agent_message::Msg;
use swarm_proto::{AgentMessage, Heartbeat, Hello, ShardProgress, Snapshot};
use tokio_util::sync::CancellationToken;

async fn cluster(cancel: &CancellationToken) -> Cluster {
    swarm_io::tls::install_crypto_provider();
    let mut cfg = ClusterConfig::local("backpressure", 0);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("sesame".into());
    Cluster::start(cfg, cancel).await.expect("cluster")
}

async fn rpc(c: &Cluster) -> swarm_agent::transport::SessionClient {
    let addr = c.public_addr.expect("public listener");
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connects");
    client(channel, BearerAuth::new(Some("sesame")).expect("auth"))
}

fn hello(id: &str) -> AgentMessage {
    AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: id.into(),
            protocol: swarm_proto::PROTOCOL_VERSION,
            capacity: 1,
            ..Default::default()
        })),
    }
}

/// Messages of about `bytes` each for a shard nobody holds, counted as the transport takes them.
fn flood(
    id: &str,
    bytes: usize,
    n: usize,
    taken: Arc<AtomicUsize>,
) -> impl tokio_stream::Stream<Item = AgentMessage> + Send + 'static {
    let first = hello(id);
    let filler = "x".repeat(bytes);
    tokio_stream::iter(std::iter::once(first).chain((0..n).map(move |i| {
        taken.fetch_add(1, Ordering::SeqCst);
        AgentMessage {
            msg: Some(Msg::Progress(ShardProgress {
                shard_id: format!("{filler}{i}"),
                seq: i as u64,
                delta: Some(Snapshot::default()),
            })),
        }
    })))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_agent_is_held_back_by_its_budget() {
    let cancel = CancellationToken::new();
    let c = cluster(&cancel).await;
    let mut rpc = rpc(&c).await;
    // 2000 messages of 64 KiB (125 MiB) while no stage runs to digest them
    let taken = Arc::new(AtomicUsize::new(0));
    let size = 64 << 10;
    let _inbound = rpc
        .session(flood("flood", size, 2000, Arc::clone(&taken)))
        .await
        .expect("session")
        .into_inner();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = taken.load(Ordering::SeqCst);
    // the budget, plus what HTTP/2 windows and codec buffers hold in flight
    let bound = INBOUND_BUDGET_BYTES / size + 160;
    assert!(
        sent <= bound,
        "the coordinator took {sent} messages of 64 KiB (bound {bound}): unbounded buffering"
    );
    assert!(sent > 16, "the agent could send at all ({sent})");
    // held back, not dropped: waiting on the coordinator is not the agent's silence
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        c.registry.agents().iter().any(|a| a.id == "flood"),
        "the flooding agent is held back, not lost"
    );
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_does_not_read_is_dropped() {
    let cancel = CancellationToken::new();
    let c = cluster(&cancel).await;
    let mut rpc = rpc(&c).await;
    // heartbeats as fast as the transport takes them, then the stream stays open (an agent that
    // ends its session is gone for that reason)
    let n = 200_000u64;
    let beats = std::iter::once(hello("deaf")).chain((0..n).map(|i| AgentMessage {
        msg: Some(Msg::Heartbeat(Heartbeat {
            agent_unix_us: i,
            ..Default::default()
        })),
    }));
    let mut inbound = rpc
        .session(tokio_stream::StreamExt::chain(
            tokio_stream::iter(beats),
            tokio_stream::pending(),
        ))
        .await
        .expect("session")
        .into_inner();
    // the answers are not read for a while
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !c.registry.agents().iter().any(|a| a.id == "deaf"),
        "an agent that does not read is still connected"
    );
    // then what was queued for it is all there is: the session ended
    let mut answers = 0u64;
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        while let Ok(Some(_)) = inbound.message().await {
            answers += 1;
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the session of an agent that did not read never ended"
    );
    assert!(answers < n, "{answers} answers: nothing was dropped");
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_declared_lost_has_its_stream_ended() {
    // a paused agent (SIGSTOP) is declared lost by its silence; when it wakes it must find its
    // session gone (and stop its shards), not finish them unseen while others redo the work
    let cancel = CancellationToken::new();
    swarm_io::tls::install_crypto_provider();
    let mut cfg = ClusterConfig::local("silent", 0);
    cfg.listen = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.token = Some("sesame".into());
    cfg.heartbeat_timeout = Duration::from_millis(600);
    let c = Cluster::start(cfg, &cancel).await.expect("cluster");
    let mut rpc = rpc(&c).await;
    // says hello, then nothing (and keeps its request stream open)
    let mut inbound = rpc
        .session(tokio_stream::StreamExt::chain(
            tokio_stream::iter(vec![hello("sleeper")]),
            tokio_stream::pending(),
        ))
        .await
        .expect("session")
        .into_inner();
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
        // the welcome, then the end of the stream once the reaper lets it go
        while let Ok(Some(_)) = inbound.message().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stream of an agent declared lost stayed open"
    );
    assert!(!c.registry.agents().iter().any(|a| a.id == "sleeper"));
    cancel.cancel();
}
