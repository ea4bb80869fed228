//! Connected agents, their sessions, and the events the orchestrator consumes.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use swarm_proto::agent_message;
use swarm_proto::{CoordinatorMessage, coordinator_message};
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;
use tonic::Status;

/// A connected agent, as it introduced itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentInfo {
    /// Agent id (unique among connected agents).
    pub id: String,
    /// This connection's session number (a reconnect is a new session).
    pub session: u64,
    /// Labels, e.g. `region`.
    pub labels: BTreeMap<String, String>,
    /// Relative weight when splitting load.
    pub capacity: u32,
    /// Agent build version.
    pub version: String,
}

impl AgentInfo {
    /// Whether every `selector` label matches.
    pub fn matches(&self, selector: &BTreeMap<String, String>) -> bool {
        selector.iter().all(|(k, v)| self.labels.get(k) == Some(v))
    }
}

/// Bytes of one agent session's messages that may wait, undigested, for the orchestrator: when
/// they are spent the session's reader stops reading, and HTTP/2 flow control holds the agent.
pub const INBOUND_BUDGET_BYTES: usize = 8 << 20;

/// Messages to one agent that may wait for it to read them; a session whose queue is full is
/// not reading and is dropped.
pub const OUTBOUND_QUEUE: usize = 256;

/// A held share of a session's inbound budget, given back when the message is dropped.
#[derive(Debug, Clone, Default)]
pub struct Credit(Option<Arc<tokio::sync::OwnedSemaphorePermit>>);

impl Credit {
    /// A held share.
    pub fn held(permit: tokio::sync::OwnedSemaphorePermit) -> Self {
        Self(Some(Arc::new(permit)))
    }

    /// The bytes of budget it holds.
    pub fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |p| p.num_permits())
    }
}

/// What happens in the cluster, in arrival order.
#[derive(Debug, Clone)]
pub enum ClusterEvent {
    /// An agent session started.
    Joined(AgentInfo),
    /// A message from an agent session.
    Message {
        /// The agent.
        agent_id: String,
        /// Its session.
        session: u64,
        /// The message.
        msg: Box<agent_message::Msg>,
        /// The share of the session's inbound budget this message holds until it is dropped.
        credit: Credit,
    },
    /// An agent session ended or went silent.
    Lost {
        /// The agent.
        agent_id: String,
        /// Its session.
        session: u64,
        /// Why.
        reason: String,
    },
}

pub(crate) type Outbound = mpsc::Sender<Result<CoordinatorMessage, Status>>;

struct Entry {
    info: AgentInfo,
    tx: Outbound,
    last_seen: Instant,
    /// Ends the session's stream when the registry lets it go (silent, not reading): an agent
    /// declared lost must stop its shards, not finish them unseen once it wakes.
    ended: tokio_util::sync::CancellationToken,
}

/// The registry of live sessions; cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
    events: mpsc::UnboundedSender<ClusterEvent>,
    next_session: Arc<AtomicU64>,
    closing: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("agents", &self.agents().len())
            .finish()
    }
}

impl Registry {
    /// A registry and the receiver of its events.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<ClusterEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        let r = Self {
            inner: Arc::new(Mutex::new(HashMap::new())),
            events,
            next_session: Arc::new(AtomicU64::new(1)),
            closing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        (r, rx)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // a poisoned lock only means another thread panicked mid-update of a plain map
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live agents, sorted by id.
    pub fn agents(&self) -> Vec<AgentInfo> {
        let mut v: Vec<_> = self.lock().values().map(|e| e.info.clone()).collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// Whether this agent session is still live.
    pub fn is_live(&self, agent_id: &str, session: u64) -> bool {
        self.lock()
            .get(agent_id)
            .is_some_and(|e| e.info.session == session)
    }

    /// The live session of agent `agent_id`, whichever it is (a reconnect is a new session).
    pub fn current(&self, agent_id: &str) -> Option<AgentInfo> {
        self.lock().get(agent_id).map(|e| e.info.clone())
    }

    /// Why `id` cannot join now (another session of it lives), if it cannot.
    pub(crate) fn id_taken(&self, id: &str) -> Option<String> {
        self.lock().get(id).map(|live| {
            format!(
                "agent id {id} is already connected (session {}); every agent needs its own id (agent --id)",
                live.info.session
            )
        })
    }

    /// Registers a session; refused while another session of the same agent id lives (two
    /// agents sharing an id would replace each other's work), with the reason.
    pub(crate) fn register(
        &self,
        mut info: AgentInfo,
        tx: Outbound,
        ended: tokio_util::sync::CancellationToken,
    ) -> Result<u64, String> {
        let session = self.next_session.fetch_add(1, Ordering::Relaxed);
        info.session = session;
        {
            let mut map = self.lock();
            if let Some(live) = map.get(&info.id) {
                return Err(format!(
                    "agent id {} is already connected (session {}); every agent needs its own id (agent --id)",
                    info.id, live.info.session
                ));
            }
            // (checked again here: two sessions of one id may race past `id_taken`)
            map.insert(
                info.id.clone(),
                Entry {
                    info: info.clone(),
                    tx,
                    last_seen: Instant::now(),
                    ended,
                },
            );
        }
        let _ = self.events.send(ClusterEvent::Joined(info));
        Ok(session)
    }

    /// The run is ending: sessions closing from now on are expected.
    pub fn closing(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    /// Notes a sign of life.
    pub(crate) fn touch(&self, agent_id: &str, session: u64) {
        if let Some(e) = self.lock().get_mut(agent_id)
            && e.info.session == session
        {
            e.last_seen = Instant::now();
        }
    }

    /// Forwards an agent's message to the orchestrator.
    pub(crate) fn forward(
        &self,
        agent_id: &str,
        session: u64,
        msg: agent_message::Msg,
        credit: Credit,
    ) {
        let _ = self.events.send(ClusterEvent::Message {
            agent_id: agent_id.to_string(),
            session,
            msg: Box::new(msg),
            credit,
        });
    }

    /// Ends a session (if it is still the current one) and reports it lost.
    pub(crate) fn remove(&self, agent_id: &str, session: u64, reason: &str) {
        let removed = {
            let mut map = self.lock();
            match map.get(agent_id) {
                Some(e) if e.info.session == session => map.remove(agent_id),
                _ => None,
            }
        };
        if let Some(e) = &removed {
            e.ended.cancel();
        }
        if removed.is_some() {
            if self.closing.load(Ordering::Relaxed) {
                tracing::debug!(agent_id, session, reason, "agent left");
            } else {
                tracing::warn!(agent_id, session, reason, "agent lost");
            }
            let _ = self.events.send(ClusterEvent::Lost {
                agent_id: agent_id.to_string(),
                session,
                reason: reason.to_string(),
            });
        }
    }

    /// Sends a message to an agent; false if it is gone.
    pub fn send(&self, agent_id: &str, msg: coordinator_message::Msg) -> bool {
        let sent = self.lock().get(agent_id).map(|e| {
            (
                e.info.session,
                e.tx.try_send(Ok(CoordinatorMessage { msg: Some(msg) })),
            )
        });
        match sent {
            Some((_, Ok(()))) => true,
            Some((session, Err(e))) => {
                self.not_reading(agent_id, session, matches!(e, TrySendError::Full(_)));
                false
            }
            None => false,
        }
    }

    /// Drops a session whose outbound queue is full (it does not read) or closed.
    fn not_reading(&self, agent_id: &str, session: u64, full: bool) {
        let reason = if full {
            format!("not reading its messages ({OUTBOUND_QUEUE} waiting); dropped")
        } else {
            "session closed".to_string()
        };
        self.remove(agent_id, session, &reason);
    }

    /// Sends a message to every agent.
    pub fn broadcast(&self, msg: coordinator_message::Msg) {
        let failed: Vec<(String, u64, bool)> = self
            .lock()
            .values()
            .filter_map(|e| {
                let sent = e.tx.try_send(Ok(CoordinatorMessage {
                    msg: Some(msg.clone()),
                }));
                let full = matches!(sent.err()?, TrySendError::Full(_));
                Some((e.info.id.clone(), e.info.session, full))
            })
            .collect();
        for (id, session, full) in failed {
            self.not_reading(&id, session, full);
        }
    }

    /// Declares agents silent for longer than `timeout` lost; returns how many.
    pub fn reap(&self, timeout: Duration) -> usize {
        let stale: Vec<(String, u64)> = self
            .lock()
            .values()
            .filter(|e| e.last_seen.elapsed() > timeout)
            .map(|e| (e.info.id.clone(), e.info.session))
            .collect();
        for (id, session) in &stale {
            self.remove(id, *session, &format!("no heartbeat for {timeout:?}"));
        }
        stale.len()
    }
}
