//! A running cluster: the gRPC listeners (a public one for remote agents when asked, and a
//! loopback one for in-process agents), the registry, the silence reaper and the local agents.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use swarm_proto::coordinator_server::CoordinatorServer;
use swarm_proto::{Drain, coordinator_message};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use super::auth::Auth;
use super::local::LocalAgents;
use super::registry::{AgentInfo, ClusterEvent, Registry};
use super::service::{CoordinatorService, SessionSettings};

/// TLS for the public listener; with `client_ca_pem`, agents must present a certificate it signed.
#[derive(Clone)]
pub struct ServerTls {
    /// Server certificate chain (PEM).
    pub cert_pem: Vec<u8>,
    /// Server private key (PEM).
    pub key_pem: Vec<u8>,
    /// CA that signs agent certificates (PEM): mutual TLS.
    pub client_ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("mutual", &self.client_ca_pem.is_some())
            .finish()
    }
}

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The run id sent to agents.
    pub run_id: String,
    /// Where remote agents dial in (None: local agents only).
    pub listen: Option<SocketAddr>,
    /// TLS of the public listener.
    pub tls: Option<ServerTls>,
    /// Bearer token remote agents must present.
    pub token: Option<String>,
    /// In-process agents to start.
    pub local_agents: u32,
    /// Agent heartbeat period.
    pub heartbeat_ms: u32,
    /// Agent progress period.
    pub progress_ms: u32,
    /// Silence after which an agent is lost.
    pub heartbeat_timeout: Duration,
    /// What the local agents' code sandboxes may do (specs cannot widen it).
    pub sandbox: swarm_sandbox::policy::SandboxPolicy,
}

impl ClusterConfig {
    /// In-process agents only, default timings.
    pub fn local(run_id: &str, agents: u32) -> Self {
        Self {
            run_id: run_id.to_string(),
            listen: None,
            tls: None,
            token: None,
            local_agents: agents,
            heartbeat_ms: 500,
            progress_ms: 1000,
            heartbeat_timeout: Duration::from_secs(10),
            sandbox: Default::default(),
        }
    }
}

/// A running cluster.
pub struct Cluster {
    /// Live agents.
    pub registry: Registry,
    /// Cluster events, for the orchestrator.
    pub events: mpsc::UnboundedReceiver<ClusterEvent>,
    /// The public listener's address, when there is one.
    pub public_addr: Option<SocketAddr>,
    /// The loopback listener in-process agents use.
    pub loopback_addr: SocketAddr,
    /// Settings the cluster was started with.
    pub config: ClusterConfig,
    /// Live metrics of this run (served on `--metrics-listen`).
    pub live: std::sync::Arc<crate::live::LiveMetrics>,
    /// The prompt sets agents may pull (`Prompts`).
    pub prompt_sets: super::prompt_set::PromptSets,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
    local: LocalAgents,
}

/// 32 random bytes, hex: a bearer token no one can guess.
pub fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

async fn serve(
    listener: TcpListener,
    service: CoordinatorService,
    tls: Option<&ServerTls>,
    cancel: CancellationToken,
) -> anyhow::Result<impl std::future::Future<Output = ()> + Send + use<>> {
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(10)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)));
    if let Some(t) = tls {
        let mut cfg = ServerTlsConfig::new().identity(Identity::from_pem(&t.cert_pem, &t.key_pem));
        if let Some(ca) = &t.client_ca_pem {
            cfg = cfg.client_ca_root(Certificate::from_pem(ca));
        }
        builder = builder
            .tls_config(cfg)
            .context("invalid coordinator tls settings")?;
    }
    let router = builder.add_service(
        CoordinatorServer::new(service)
            .max_decoding_message_size(swarm_proto::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(swarm_proto::MAX_MESSAGE_BYTES),
    );
    Ok(async move {
        let incoming = TcpListenerStream::new(listener);
        if let Err(e) = router
            .serve_with_incoming_shutdown(incoming, cancel.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "coordinator grpc server failed");
        }
    })
}

impl Cluster {
    /// Starts the listeners, the reaper and the local agents.
    pub async fn start(config: ClusterConfig, cancel: &CancellationToken) -> anyhow::Result<Self> {
        let cancel = cancel.child_token();
        let (registry, events) = Registry::new();
        let settings = SessionSettings {
            run_id: config.run_id.clone(),
            heartbeat_ms: config.heartbeat_ms,
            progress_ms: config.progress_ms,
            hello_timeout: Duration::from_secs(10),
        };
        let mut tasks = JoinSet::new();
        let prompt_sets = super::prompt_set::PromptSets::default();
        let loopback_token = config.token.clone().unwrap_or_else(random_token);
        let loopback = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .context("cannot bind the loopback listener for local agents")?;
        let loopback_addr = loopback.local_addr()?;
        let svc = CoordinatorService::new(
            registry.clone(),
            Auth::new(Some(loopback_token.clone())),
            settings.clone(),
            prompt_sets.clone(),
        );
        tasks.spawn(serve(loopback, svc, None, cancel.clone()).await?);
        let mut public_addr = None;
        if let Some(addr) = config.listen {
            let l = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            public_addr = Some(l.local_addr()?);
            let svc = CoordinatorService::new(
                registry.clone(),
                Auth::new(config.token.clone()),
                settings,
                prompt_sets.clone(),
            );
            tasks.spawn(serve(l, svc, config.tls.as_ref(), cancel.clone()).await?);
            tracing::info!(addr = ?public_addr, tls = config.tls.is_some(), "coordinator listening for agents");
        }
        let reaper_registry = registry.clone();
        let reaper_cancel = cancel.clone();
        let timeout = config.heartbeat_timeout;
        let period = Duration::from_millis(u64::from(config.heartbeat_ms.max(50)));
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(period);
            loop {
                tokio::select! {
                    _ = tick.tick() => { reaper_registry.reap(timeout); }
                    _ = reaper_cancel.cancelled() => break,
                }
            }
        });
        let local = LocalAgents::default();
        for i in 0..config.local_agents {
            local
                .start(
                    i,
                    loopback_addr,
                    loopback_token.clone(),
                    config.sandbox.clone(),
                    cancel.clone(),
                )
                .context("cannot start a local agent thread")?;
        }
        Ok(Self {
            registry,
            events,
            public_addr,
            loopback_addr,
            config,
            live: Default::default(),
            prompt_sets,
            cancel,
            tasks,
            local,
        })
    }

    /// Waits until `n` agents matching `selector` are connected (or `timeout` passes).
    pub async fn wait_for(
        &mut self,
        n: usize,
        selector: &BTreeMap<String, String>,
        timeout: Duration,
    ) -> anyhow::Result<Vec<AgentInfo>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let agents: Vec<_> = self
                .registry
                .agents()
                .into_iter()
                .filter(|a| a.matches(selector))
                .collect();
            if agents.len() >= n {
                return Ok(agents);
            }
            tokio::select! {
                ev = self.events.recv() => {
                    if ev.is_none() {
                        anyhow::bail!("cluster event channel closed");
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    anyhow::bail!(
                        "only {} of {n} agents (selector {selector:?}) connected within {timeout:?}",
                        agents.len()
                    );
                }
                _ = self.cancel.cancelled() => anyhow::bail!("cancelled while waiting for agents"),
            }
        }
    }

    /// The in-process agents.
    pub fn local_agents(&self) -> LocalAgents {
        self.local.clone()
    }

    /// The cluster's cancellation token (cancelled by shutdown).
    pub fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }

    /// Asks every agent to drain, stops local agents and the listeners.
    pub async fn shutdown(mut self) {
        self.registry.closing();
        self.registry
            .broadcast(coordinator_message::Msg::Drain(Drain {
                reason: "run finished".into(),
            }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.cancel.cancel();
        let deadline = tokio::time::sleep(Duration::from_secs(5));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = self.tasks.join_next() => if next.is_none() { break },
                _ = &mut deadline => {
                    self.tasks.abort_all();
                    break;
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), self.local.join()).await;
    }
}
