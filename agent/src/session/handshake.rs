//! Opening a session: dial, send Hello, wait for Welcome (or Refused), all under one deadline.

use std::time::Duration;

use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{CoordinatorMessage, Hello, Welcome};
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::error::SessionError;
use super::outbox::Outbox;
use super::{AgentConfig, PROTOCOL_VERSION};
use crate::transport::{self, BearerAuth};

/// Longest the dial, the session call and the Welcome may take together.
pub const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

/// A session the coordinator welcomed.
pub struct Opened {
    /// The coordinator's Welcome.
    pub welcome: Welcome,
    /// When it arrived, on the agent's clock (µs since the epoch).
    pub welcomed_unix_us: u64,
    /// The coordinator's half of the stream.
    pub inbound: tonic::Streaming<CoordinatorMessage>,
    /// Our half.
    pub out: Outbox,
    /// The client, for unary calls beside the session (`Prompts`).
    pub client: transport::SessionClient,
}

/// The message's kind, for errors and logs.
pub fn kind(m: &CMsg) -> &'static str {
    match m {
        CMsg::Welcome(_) => "welcome",
        CMsg::HeartbeatAck(_) => "heartbeat_ack",
        CMsg::Assign(_) => "assign",
        CMsg::Cancel(_) => "cancel",
        CMsg::Drain(_) => "drain",
        CMsg::Refused(_) => "refused",
        CMsg::Probe(_) => "probe",
    }
}

fn hello(cfg: &AgentConfig) -> Hello {
    Hello {
        agent_id: cfg.agent_id.clone(),
        labels: cfg
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        capacity: cfg.capacity,
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
    }
}

/// Dials the coordinator and completes the handshake.
pub async fn open(cfg: &AgentConfig) -> Result<Opened, SessionError> {
    let deadline = Instant::now() + HANDSHAKE_DEADLINE;
    let ep = transport::endpoint(&cfg.coordinator, cfg.tls.as_ref(), cfg.insecure)?;
    let auth = BearerAuth::new(cfg.token.as_deref())?;
    let channel = transport::connect(&ep, HANDSHAKE_DEADLINE).await?;
    let (out, rx) = Outbox::new(CancellationToken::new());
    out.send(Msg::Hello(hello(cfg))).await?;
    let mut client = transport::client(channel, auth);
    let unary = client.clone();
    let response = tokio::time::timeout_at(deadline, client.session(ReceiverStream::new(rx)))
        .await
        .map_err(|_| SessionError::HandshakeTimeout(HANDSHAKE_DEADLINE))?
        .map_err(|s| SessionError::rejected(&s))?;
    let mut inbound = response.into_inner();
    let first = tokio::time::timeout_at(deadline, inbound.message())
        .await
        .map_err(|_| SessionError::HandshakeTimeout(HANDSHAKE_DEADLINE))?
        .map_err(|s| SessionError::rejected(&s))?;
    let Some(first) = first else {
        return Err(SessionError::UnexpectedFirst("the end of the stream"));
    };
    match first.msg {
        Some(CMsg::Welcome(welcome)) => Ok(Opened {
            welcome,
            welcomed_unix_us: super::clock::unix_now_us(),
            inbound,
            out,
            client: unary,
        }),
        Some(CMsg::Refused(r)) => Err(SessionError::Refused { reason: r.reason }),
        Some(other) => Err(SessionError::UnexpectedFirst(kind(&other))),
        None => Err(SessionError::UnexpectedFirst("an empty message")),
    }
}
