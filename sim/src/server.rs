//! The HTTP/1.1 server: binds, accepts, serves each connection on its own task with keep-alive,
//! and shuts down gracefully when its cancellation token fires.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::conn::{ConnIo, ResetSwitch};
use crate::{AnswerKey, SimConfig, SimError, TruthLog, handler};

/// How long in-flight answers may run on after shutdown begins before they are cut off.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// State shared by every connection of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: SimConfig,
    pub truth: TruthLog,
    pub cancel: CancellationToken,
    requests: AtomicU64,
    /// The `/v1/models` body.
    pub models: Bytes,
    /// The configured model id as a JSON string literal.
    model_json: String,
    /// The loaded `answer_key`, if configured.
    pub answer_key: Option<AnswerKey>,
    /// Generation slots (`capacity.max_concurrent`); None: unlimited.
    slots: Option<Arc<tokio::sync::Semaphore>>,
    /// The prefix cache (`prefix_cache`); None: off.
    pub(crate) prefix_cache: Option<crate::prefix_cache::PrefixCache>,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, truth: TruthLog, cancel: CancellationToken) -> Self {
        let model_json = json_string(&config.model);
        let config_capacity = config.capacity.clone();
        let prefix_cache = config
            .prefix_cache
            .as_ref()
            .map(crate::prefix_cache::PrefixCache::new);
        let models = serde_json::json!({
            "object": "list",
            "data": [{
                "id": config.model,
                "object": "model",
                "created": 0,
                "owned_by": "llm-sim",
            }],
        });
        Shared {
            models: Bytes::from(models.to_string()),
            model_json,
            config,
            truth,
            cancel,
            requests: AtomicU64::new(0),
            answer_key: None,
            slots: config_slots(&config_capacity),
            prefix_cache,
        }
    }

    /// The same state answering from `key`.
    pub(crate) fn with_answer_key(mut self, key: Option<AnswerKey>) -> Self {
        self.answer_key = key;
        self
    }

    /// The number of the next generation request (0, 1, 2, ...).
    pub fn next_request(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits for a generation slot (in arrival order) when a capacity is configured; the slot
    /// is held until the returned permit drops. None: unlimited, or the server is shutting down.
    pub async fn generation_slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = self.slots.clone()?;
        tokio::select! {
            permit = slots.acquire_owned() => permit.ok(),
            () = self.cancel.cancelled() => None,
        }
    }

    /// The extra inter-token gap from the other answers generating now
    /// (`capacity.itl_per_extra_ms` each).
    pub fn batch_itl(&self) -> Duration {
        match (&self.slots, &self.config.capacity) {
            (Some(slots), Some(c)) if c.itl_per_extra_ms > 0.0 => {
                let generating =
                    (c.max_concurrent as usize).saturating_sub(slots.available_permits());
                let others = generating.saturating_sub(1) as f64;
                Duration::from_secs_f64(others * c.itl_per_extra_ms / 1000.0)
            }
            _ => Duration::ZERO,
        }
    }

    /// The model to echo as a JSON string literal: the request's, else the configured one.
    pub fn model_json(&self, requested: Option<&str>) -> String {
        match requested {
            Some(model) => json_string(model),
            None => self.model_json.clone(),
        }
    }
}

fn config_slots(capacity: &Option<crate::CapacityConfig>) -> Option<Arc<tokio::sync::Semaphore>> {
    capacity
        .as_ref()
        .map(|c| Arc::new(tokio::sync::Semaphore::new(c.max_concurrent as usize)))
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// Streams one HTTP/2 connection may carry at once (hypercorn's default; nginx allows 128).
pub const MAX_CONCURRENT_STREAMS: u32 = 100;

/// TLS for the simulator: it then speaks HTTPS, offering HTTP/2 and HTTP/1.1 by ALPN.
#[derive(Clone)]
pub struct SimTls {
    /// Certificate chain, PEM.
    pub cert_pem: Vec<u8>,
    /// Private key, PEM.
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for SimTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimTls").finish_non_exhaustive()
    }
}

fn acceptor(tls: &SimTls) -> Result<tokio_rustls::TlsAcceptor, SimError> {
    let bad = |e: String| SimError::Tls(e);
    let certs = rustls_pemfile_certs(&tls.cert_pem).map_err(bad)?;
    use rustls::pki_types::pem::PemObject;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(&tls.key_pem)
        .map_err(|e| bad(format!("private key: {e}")))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

fn rustls_pemfile_certs(
    pem: &[u8],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))
}

/// A running simulator started by [`start`].
///
/// Dropping the handle stops the server too (without waiting for it).
#[derive(Debug)]
pub struct SimHandle {
    /// The address the server listens on.
    pub addr: SocketAddr,
    /// The server's truth log (empty unless `record_truth` is set).
    pub truth: TruthLog,
    connections: Arc<AtomicU64>,
    tls: bool,
    cancel: CancellationToken,
    task: Option<JoinHandle<Result<(), SimError>>>,
}

impl SimHandle {
    /// The server's base URL, e.g. `http://127.0.0.1:8000` (no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Stops accepting, lets in-flight answers finish (for up to a few seconds), and waits.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "sim server failed"),
                Err(e) => tracing::warn!(error = %e, "sim server task failed"),
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Binds `bind` (port 0 picks a free port) and serves `config` on a spawned task until `cancel`
/// fires or [`SimHandle::shutdown`] is called. Returns once the socket is bound (and the answer
/// key, if configured, is loaded).
pub async fn start(
    config: SimConfig,
    bind: SocketAddr,
    cancel: CancellationToken,
) -> Result<SimHandle, SimError> {
    start_with(config, bind, None, cancel).await
}

/// Like [`start`], speaking HTTPS (HTTP/2 or HTTP/1.1 by ALPN) when `tls` is given.
pub async fn start_with(
    config: SimConfig,
    bind: SocketAddr,
    tls: Option<SimTls>,
    cancel: CancellationToken,
) -> Result<SimHandle, SimError> {
    config.validate()?;
    let acceptor = tls.as_ref().map(acceptor).transpose()?;
    let key = load_answer_key(&config).await?;
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| SimError::Bind { addr: bind, source })?;
    let addr = listener.local_addr().map_err(SimError::LocalAddr)?;
    let truth = TruthLog::new();
    let cancel = cancel.child_token();
    let shared = Shared::new(config, truth.clone(), cancel.clone()).with_answer_key(key);
    let connections = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(serve_shared(
        listener,
        Arc::new(shared),
        acceptor,
        Arc::clone(&connections),
    ));
    tracing::info!(%addr, tls = tls.is_some(), "llm-sim listening");
    Ok(SimHandle {
        addr,
        truth,
        connections,
        tls: tls.is_some(),
        cancel,
        task: Some(task),
    })
}

/// Serves `config` on `listener` until `cancel` fires, then stops accepting, lets in-flight
/// answers finish (cutting off any still running after a few seconds), and returns.
pub async fn serve(
    listener: TcpListener,
    config: SimConfig,
    truth: TruthLog,
    cancel: CancellationToken,
) -> Result<(), SimError> {
    config.validate()?;
    let key = load_answer_key(&config).await?;
    let shared = Shared::new(config, truth, cancel).with_answer_key(key);
    serve_shared(listener, Arc::new(shared), None, Default::default()).await
}

/// Reads the configured answer key, if any.
async fn load_answer_key(config: &SimConfig) -> Result<Option<AnswerKey>, SimError> {
    let Some(key_config) = &config.answer_key else {
        return Ok(None);
    };
    let key = AnswerKey::load(key_config, config.seed).await?;
    tracing::info!(
        path = %key_config.path.display(),
        questions = key.len(),
        correct = key.correct_count(),
        selection = %key_config.selection,
        "answer key loaded"
    );
    Ok(Some(key))
}

async fn serve_shared(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    connections: Arc<AtomicU64>,
) -> Result<(), SimError> {
    let cancel = shared.cancel.clone();
    // HTTP/1.1, or HTTP/2 when the client says so (ALPN over TLS, the preface over plain TCP)
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    let builder = Arc::new(builder);
    let mut conns = JoinSet::new();

    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some(joined) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = joined
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.fetch_add(1, Ordering::Relaxed);
                    conns.spawn(serve_conn(builder.clone(), stream, peer, shared.clone(), tls.clone()));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
        }
    }
    drop(listener);

    let drained = tokio::time::timeout(DRAIN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = conns.len(),
            "connections still busy after the drain grace, cutting them off"
        );
        conns.shutdown().await;
    }
    Ok(())
}

/// Serves one connection until the peer closes it or the server shuts down.
async fn serve_conn(
    builder: Arc<auto::Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
    }
    let reset = ResetSwitch::default();
    let io = ConnIo::new(stream, reset.clone());
    match tls {
        None => serve_io(builder, TokioIo::new(io), peer, shared, reset).await,
        Some(acceptor) => match acceptor.accept(io).await {
            Ok(tls) => serve_io(builder, TokioIo::new(tls), peer, shared, reset).await,
            Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        },
    }
}

async fn serve_io<I>(
    builder: Arc<auto::Builder<TokioExecutor>>,
    io: TokioIo<I>,
    peer: SocketAddr,
    shared: Arc<Shared>,
    reset: ResetSwitch,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let cancel = shared.cancel.clone();
    let service = service_fn(move |req| {
        let shared = shared.clone();
        let reset = reset.clone();
        async move { Ok::<_, Infallible>(handler::handle(shared, reset, req).await) }
    });
    let mut conn = pin!(builder.serve_connection(io, service));
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = cancel.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        // Simulated resets and clients hanging up mid-answer end up here; both are expected.
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
