//! The `Coordinator.Session` gRPC service: authenticates an agent, registers it, answers its
//! heartbeats and forwards everything else to the orchestrator.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::Stream;
use std::sync::Arc;
use swarm_proto::coordinator_server::Coordinator;
use swarm_proto::{
    AgentMessage, CoordinatorMessage, HeartbeatAck, PromptsReply, PromptsRequest, Refused, Welcome,
    agent_message, coordinator_message,
};

use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::auth::Auth;
use super::prompt_set::PromptSets;
use super::registry::{AgentInfo, Credit, INBOUND_BUDGET_BYTES, OUTBOUND_QUEUE, Registry};

/// Most prompts one `Prompts` reply holds (fewer when their bytes reach the message bound).
pub const MAX_PROMPTS_PER_REPLY: u32 = 65_536;

/// The protocol version this coordinator speaks.
pub const PROTOCOL: u32 = swarm_proto::PROTOCOL_VERSION;

/// Session settings sent to agents in `Welcome`.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// The run id.
    pub run_id: String,
    /// Heartbeat period.
    pub heartbeat_ms: u32,
    /// Progress (delta) period.
    pub progress_ms: u32,
    /// Longest wait for an agent's `Hello`.
    pub hello_timeout: Duration,
}

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CoordinatorService {
    registry: Registry,
    auth: Auth,
    settings: SessionSettings,
    prompts: PromptSets,
}

/// Microseconds since the Unix epoch, now.
pub fn now_unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

impl CoordinatorService {
    /// A service registering agents into `registry`.
    pub fn new(
        registry: Registry,
        auth: Auth,
        settings: SessionSettings,
        prompts: PromptSets,
    ) -> Self {
        Self {
            registry,
            auth,
            settings,
            prompts,
        }
    }
}

fn msg(m: coordinator_message::Msg) -> Result<CoordinatorMessage, Status> {
    Ok(CoordinatorMessage { msg: Some(m) })
}

type SessionStream =
    Pin<Box<dyn Stream<Item = Result<CoordinatorMessage, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl Coordinator for CoordinatorService {
    type SessionStream = SessionStream;

    async fn prompts(
        &self,
        request: Request<PromptsRequest>,
    ) -> Result<Response<PromptsReply>, Status> {
        self.auth.check(request.metadata())?;
        let req = request.into_inner();
        let set = self.prompts.get(&req.prompt_set).ok_or_else(|| {
            Status::not_found(format!("no prompt set {:.64} in this run", req.prompt_set))
        })?;
        let total = set.len() as u64;
        if req.from >= total {
            return Err(Status::out_of_range(format!(
                "prompt {} is past the set's {total} prompts",
                req.from
            )));
        }
        let max = req.max_count.clamp(1, MAX_PROMPTS_PER_REPLY);
        let from = req.from;
        let prompts = tokio::task::spawn_blocking(move || set.read(from, max))
            .await
            .map_err(|e| Status::internal(format!("prompt read stopped: {e}")))?
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(PromptsReply {
            from,
            prompts,
            total,
        }))
    }

    async fn session(
        &self,
        request: Request<Streaming<AgentMessage>>,
    ) -> Result<Response<SessionStream>, Status> {
        let peer = request
            .remote_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "unknown".into());
        if let Err(e) = self.auth.check(request.metadata()) {
            tracing::warn!(%peer, reason = e.message(), "agent refused");
            return Err(e);
        }
        let mut inbound = request.into_inner();
        let first = tokio::time::timeout(self.settings.hello_timeout, inbound.message())
            .await
            .map_err(|_| Status::deadline_exceeded("no hello within the timeout"))??;
        let hello = match first.and_then(|m| m.msg) {
            Some(agent_message::Msg::Hello(h)) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message of a session must be hello",
                ));
            }
        };
        let (tx, rx) = mpsc::channel(OUTBOUND_QUEUE);
        let refuse = |reason: String| {
            tracing::warn!(%peer, agent_id = %hello.agent_id, %reason, "agent refused");
            let _ = tx.try_send(msg(coordinator_message::Msg::Refused(Refused { reason })));
        };
        if hello.protocol != PROTOCOL {
            refuse(format!(
                "protocol {} not supported, coordinator speaks {PROTOCOL}: run an agent of the coordinator's version",
                hello.protocol
            ));
            return Ok(Response::new(Box::pin(ReceiverStream::new(rx))));
        }
        if hello.agent_id.trim().is_empty() {
            refuse("agent id must not be empty".into());
            return Ok(Response::new(Box::pin(ReceiverStream::new(rx))));
        }
        let info = AgentInfo {
            id: hello.agent_id.clone(),
            session: 0,
            labels: hello.labels.into_iter().collect::<BTreeMap<_, _>>(),
            capacity: hello.capacity.max(1),
            version: hello.version,
        };
        if let Some(reason) = self.registry.id_taken(&info.id) {
            refuse(reason);
            return Ok(Response::new(Box::pin(ReceiverStream::new(rx))));
        }
        let _ = tx.try_send(msg(coordinator_message::Msg::Welcome(Welcome {
            run_id: self.settings.run_id.clone(),
            coordinator_unix_us: now_unix_us(),
            heartbeat_ms: self.settings.heartbeat_ms,
            progress_ms: self.settings.progress_ms,
        })));
        let ended = tokio_util::sync::CancellationToken::new();
        let session = match self
            .registry
            .register(info.clone(), tx.clone(), ended.clone())
        {
            Ok(session) => session,
            Err(reason) => {
                refuse(reason);
                return Ok(Response::new(Box::pin(ReceiverStream::new(rx))));
            }
        };
        tracing::info!(%peer, agent_id = %info.id, session, labels = ?info.labels, "agent joined");
        let registry = self.registry.clone();
        // this session's inbound budget: messages waiting for the orchestrator hold a share
        let budget = Arc::new(Semaphore::new(INBOUND_BUDGET_BYTES));
        tokio::spawn(async move {
            let reason = loop {
                let next = tokio::select! {
                    m = inbound.message() => m,
                    // the registry let this session go (declared lost): end its stream, so the
                    // agent stops its shards and reconnects
                    _ = ended.cancelled() => break "let go by the coordinator".to_string(),
                };
                match next {
                    Ok(Some(AgentMessage { msg: Some(m) })) => {
                        registry.touch(&info.id, session);
                        match m {
                            agent_message::Msg::Heartbeat(hb) => {
                                let ack = tx.try_send(msg(coordinator_message::Msg::HeartbeatAck(
                                    HeartbeatAck {
                                        echo_agent_unix_us: hb.agent_unix_us,
                                        coordinator_unix_us: now_unix_us(),
                                    },
                                )));
                                if ack.is_err() {
                                    break format!(
                                        "not reading its messages ({OUTBOUND_QUEUE} waiting)"
                                    );
                                }
                            }
                            agent_message::Msg::Hello(_) => {
                                tracing::warn!(agent_id = %info.id, "ignoring a second hello");
                            }
                            other => {
                                let credit =
                                    take_credit(&budget, &other, &registry, &info.id, session)
                                        .await;
                                registry.forward(&info.id, session, other, credit);
                            }
                        }
                    }
                    Ok(Some(AgentMessage { msg: None })) => {}
                    Ok(None) => break "session closed by the agent".to_string(),
                    Err(e) => break format!("session broke: {}", e.message()),
                }
            };
            registry.remove(&info.id, session, &reason);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Waits for `m`'s share of the session's inbound budget (its encoded size), the session kept
/// alive meanwhile: the wait is the orchestrator's backlog, not the agent's silence.
async fn take_credit(
    budget: &Arc<Semaphore>,
    m: &agent_message::Msg,
    registry: &Registry,
    agent_id: &str,
    session: u64,
) -> Credit {
    let cost = u32::try_from(m.encoded_len().clamp(1, INBOUND_BUDGET_BYTES)).unwrap_or(u32::MAX);
    let acquire = Arc::clone(budget).acquire_many_owned(cost);
    tokio::pin!(acquire);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            permit = &mut acquire => {
                // the semaphore is never closed
                return permit.map(Credit::held).unwrap_or_default();
            }
            _ = tick.tick() => registry.touch(agent_id, session),
        }
    }
}
