//! A scriptable fake coordinator for the session tests: a real tonic server on 127.0.0.1:0 that
//! hands each session to the test, which reads the agent's messages and sends its own.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use swarm_agent::session::{AgentConfig, Backoff};
use swarm_common::metrics::aggregate::HistSettings;
use swarm_common::prompt::Prompt;
use swarm_common::schedule::LoadModel;
use swarm_common::shard::{ApiKind, GenParams, PerfShardSpec, TargetSpec};
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::coordinator_server::{Coordinator, CoordinatorServer};
use swarm_proto::{AgentMessage, CoordinatorMessage, HeartbeatAck};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{TcpListenerStream, UnboundedReceiverStream};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

/// Longest any single expected message may take.
pub const WAIT: Duration = Duration::from_secs(5);

pub fn unix_now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_micros() as u64
}

/// One agent session as the coordinator sees it.
pub struct FakeSession {
    /// 1 for the first session, 2 for the second, ...
    pub n: u32,
    /// The `authorization` metadata of the session call.
    pub authorization: Option<String>,
    /// The fake coordinator's clock runs this far ahead of the real one.
    pub skew_us: i64,
    /// Heartbeats seen (and acked) by [`FakeSession::next`].
    pub heartbeats: Vec<swarm_proto::Heartbeat>,
    inbound: mpsc::UnboundedReceiver<AgentMessage>,
    outbound: Option<mpsc::UnboundedSender<Result<CoordinatorMessage, Status>>>,
}

impl FakeSession {
    /// Now on the fake coordinator's clock.
    pub fn now(&self) -> u64 {
        (unix_now_us() as i64 + self.skew_us) as u64
    }

    pub fn send(&self, m: CMsg) {
        let out = self.outbound.as_ref().expect("session still open");
        out.send(Ok(CoordinatorMessage { msg: Some(m) }))
            .expect("agent stream still open");
    }

    /// Ends the stream with an error status (a broken session).
    pub fn abort(&mut self, status: Status) {
        if let Some(out) = self.outbound.take() {
            let _ = out.send(Err(status));
        }
    }

    /// Ends the coordinator's half cleanly.
    pub fn close(&mut self) {
        self.outbound = None;
    }

    /// The agent's next message, whatever it is; None when the agent closed its half.
    pub async fn raw(&mut self) -> Option<Msg> {
        let m = tokio::time::timeout(WAIT, self.inbound.recv())
            .await
            .expect("agent message within the deadline")?;
        Some(m.msg.expect("agent messages carry a payload"))
    }

    /// The agent's next message other than a heartbeat (heartbeats are acked on the fake clock
    /// and kept in `heartbeats`); None when the agent closed its half.
    pub async fn next(&mut self) -> Option<Msg> {
        loop {
            match self.raw().await? {
                Msg::Heartbeat(hb) => {
                    self.heartbeats.push(hb);
                    if self.outbound.is_some() {
                        self.send(CMsg::HeartbeatAck(HeartbeatAck {
                            echo_agent_unix_us: hb.agent_unix_us,
                            coordinator_unix_us: self.now(),
                        }));
                    }
                }
                other => return Some(other),
            }
        }
    }
}

/// The address of the fake's one prompt set.
pub const FAKE_SET: &str = "5e55105e55105e55105e55105e55105e55105e55105e55105e55105e55105e55";

/// The fake's prompt set.
pub fn fake_prompts() -> Vec<Prompt> {
    (0..8)
        .map(|i| Prompt::text(format!("session test prompt {i}")))
        .collect()
}

struct Svc {
    sessions: mpsc::UnboundedSender<FakeSession>,
    opened: Arc<AtomicU32>,
}

#[tonic::async_trait]
impl Coordinator for Svc {
    type SessionStream = UnboundedReceiverStream<Result<CoordinatorMessage, Status>>;

    async fn prompts(
        &self,
        req: Request<swarm_proto::PromptsRequest>,
    ) -> Result<Response<swarm_proto::PromptsReply>, Status> {
        let req = req.into_inner();
        if req.prompt_set != FAKE_SET {
            return Err(Status::not_found("no such prompt set"));
        }
        let all = fake_prompts();
        let from = req.from as usize;
        let prompts = all
            .iter()
            .skip(from)
            .take(req.max_count as usize)
            .map(|p| serde_json::to_vec(p).expect("prompt json"))
            .collect();
        Ok(Response::new(swarm_proto::PromptsReply {
            from: req.from,
            prompts,
            total: all.len() as u64,
        }))
    }

    async fn session(
        &self,
        req: Request<Streaming<AgentMessage>>,
    ) -> Result<Response<Self::SessionStream>, Status> {
        let authorization = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let mut stream = req.into_inner();
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(m)) = stream.message().await {
                if in_tx.send(m).is_err() {
                    break;
                }
            }
        });
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        let n = self.opened.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.sessions.send(FakeSession {
            n,
            authorization,
            skew_us: 0,
            heartbeats: Vec::new(),
            inbound: in_rx,
            outbound: Some(out_tx),
        });
        Ok(Response::new(UnboundedReceiverStream::new(out_rx)))
    }
}

/// The fake coordinator.
pub struct Fake {
    pub addr: SocketAddr,
    /// Session calls received.
    pub opened: Arc<AtomicU32>,
    sessions: mpsc::UnboundedReceiver<FakeSession>,
    stop: CancellationToken,
}

impl Fake {
    pub async fn start() -> Fake {
        Fake::start_with(None).await
    }

    /// A fake serving TLS with `tls` (None: plaintext).
    pub async fn start_with(tls: Option<tonic::transport::ServerTlsConfig>) -> Fake {
        swarm_io::tls::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("bound address");
        let (tx, sessions) = mpsc::unbounded_channel();
        let opened = Arc::new(AtomicU32::new(0));
        let svc = Svc {
            sessions: tx,
            opened: opened.clone(),
        };
        let stop = CancellationToken::new();
        let shutdown = stop.clone().cancelled_owned();
        let mut builder = tonic::transport::Server::builder();
        if let Some(tls) = tls {
            builder = builder.tls_config(tls).expect("server tls config");
        }
        tokio::spawn(
            builder
                .add_service(CoordinatorServer::new(svc))
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown),
        );
        Fake {
            addr,
            opened,
            sessions,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next session the agent opens.
    pub async fn session(&mut self) -> FakeSession {
        tokio::time::timeout(WAIT, self.sessions.recv())
            .await
            .expect("a session within the deadline")
            .expect("server running")
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// An agent config for `fake` with fast reconnects.
pub fn agent_config(fake: &Fake, id: &str) -> AgentConfig {
    let mut cfg = AgentConfig::new(fake.url(), id);
    cfg.reconnect = Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
    };
    cfg
}

/// A closed-loop chat shard against the simulator at `base_url`.
pub fn closed_spec(
    base_url: &str,
    shard_id: &str,
    concurrency: u32,
    number: u64,
    duration_s: f64,
) -> PerfShardSpec {
    PerfShardSpec {
        shard_id: shard_id.into(),
        target: TargetSpec {
            url: format!("{base_url}/v1/chat/completions"),
            api: ApiKind::Chat,
            model: "sim-model".into(),
            api_key: None,
            headers: vec![],
            connect_timeout_s: 5.0,
            read_timeout_s: 10.0,
            total_timeout_s: 20.0,
            transport: Default::default(),
        },
        gen_params: GenParams {
            stream: true,
            max_tokens: Some(8),
            ..Default::default()
        },
        load: LoadModel::Closed { concurrency },
        number: Some(number),
        duration_s: Some(duration_s),
        warmup: 0,
        prompts: swarm_common::prompt_slice::PromptSlice {
            set: FAKE_SET.into(),
            total: 8,
            start: 0,
            count: 8,
        },
        seed: 7,
        hist: HistSettings::default(),
        tokenizer: None,
        goodput: None,
        ramp: None,
        trace: None,
        multi_turn: None,
    }
}

/// The counters' `total` of a snapshot.
pub fn total(snap: &Option<swarm_proto::Snapshot>) -> u64 {
    snap.as_ref()
        .and_then(|s| s.counters.as_ref())
        .map_or(0, |c| c.total)
}

/// A simulator config whose answers take a little time: TTFT `ttft_ms`, then 1 ms per token.
pub fn paced_sim(ttft_ms: f64) -> llm_sim::SimConfig {
    let mut c = llm_sim::SimConfig::instant();
    c.latency.ttft_ms = llm_sim::Dist::fixed(ttft_ms);
    c.latency.itl_ms = llm_sim::Dist::fixed(1.0);
    c
}
