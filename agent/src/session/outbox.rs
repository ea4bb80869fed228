//! The agent's half of the stream: a bounded queue that the session and every shard runner send
//! into, with a deadline, and a flag that says the link is gone.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use swarm_proto::AgentMessage;
use swarm_proto::agent_message::Msg;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Messages queued for the coordinator before senders wait.
pub const QUEUE: usize = 256;
/// Longest a message may wait for room before the link is declared stalled.
pub const SEND_DEADLINE: Duration = Duration::from_secs(30);

/// Why a message could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkDown {
    /// The stream is closed or broken.
    #[error("the session stream is closed")]
    Closed,
    /// The coordinator did not take messages for [`SEND_DEADLINE`].
    #[error("the session stream took no message for {0:?}")]
    Stalled(Duration),
}

/// A sender into the session stream; cloned into every shard runner.
#[derive(Debug, Clone)]
pub struct Outbox {
    tx: mpsc::Sender<AgentMessage>,
    down: CancellationToken,
    why: Arc<OnceLock<LinkDown>>,
}

impl Outbox {
    /// A new queue; the receiver becomes the request stream.
    pub fn new(down: CancellationToken) -> (Self, mpsc::Receiver<AgentMessage>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let why = Arc::new(OnceLock::new());
        (Self { tx, down, why }, rx)
    }

    /// Marks the link down for every sender, remembering the first reason.
    pub fn mark_down(&self, why: LinkDown) {
        let _ = self.why.set(why);
        self.down.cancel();
    }

    /// Resolves once the link is marked down.
    pub async fn wait_down(&self) {
        self.down.cancelled().await;
    }

    /// Why the link went down (Closed when it was closed from outside).
    pub fn why_down(&self) -> LinkDown {
        self.why.get().copied().unwrap_or(LinkDown::Closed)
    }

    /// Queues `msg`, waiting for room up to [`SEND_DEADLINE`]; a stall marks the link down.
    pub async fn send(&self, msg: Msg) -> Result<(), LinkDown> {
        if self.down.is_cancelled() {
            return Err(LinkDown::Closed);
        }
        let msg = AgentMessage { msg: Some(msg) };
        let size = prost::Message::encoded_len(&msg);
        if size > swarm_proto::MAX_MESSAGE_BYTES {
            // the coordinator would refuse it and break the session: say so and keep the link
            tracing::error!(
                size,
                bound = swarm_proto::MAX_MESSAGE_BYTES,
                "message larger than the protocol allows, not sent"
            );
            return Ok(());
        }
        tokio::select! {
            r = tokio::time::timeout(SEND_DEADLINE, self.tx.send(msg)) => match r {
                Ok(Ok(())) => Ok(()),
                Ok(Err(_)) => {
                    self.mark_down(LinkDown::Closed);
                    Err(LinkDown::Closed)
                }
                Err(_) => {
                    self.mark_down(LinkDown::Stalled(SEND_DEADLINE));
                    Err(LinkDown::Stalled(SEND_DEADLINE))
                }
            },
            _ = self.down.cancelled() => Err(LinkDown::Closed),
        }
    }

    /// Queues `msg` if there is room right now (heartbeats: a late one is worthless).
    pub fn try_send(&self, msg: Msg) -> Result<(), LinkDown> {
        match self.tx.try_send(AgentMessage { msg: Some(msg) }) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!("session queue full, message dropped");
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.mark_down(LinkDown::Closed);
                Err(LinkDown::Closed)
            }
        }
    }
}
