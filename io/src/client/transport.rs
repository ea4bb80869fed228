//! How the endpoint client reaches a target: HTTP/1.1 with one connection per request in flight
//! (EvalScope's and wrk's way, the default), or HTTP/2 spread round-robin over a fixed number of
//! connections; an extra CA for private endpoints; and a count of the connections opened.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use reqwest::header::HeaderMap;
use swarm_common::shard::TargetSpec;

use super::ClientError;

/// The HTTP version responses came back in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.0 or 1.1.
    Http1,
    /// HTTP/2.
    Http2,
}

impl HttpVersion {
    /// As people write it.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

/// Counts every connection the client's connector opens.
#[derive(Clone)]
struct CountLayer(Arc<AtomicU64>);

impl<S> tower::Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            opened: Arc::clone(&self.0),
        }
    }
}

#[derive(Clone)]
struct Counted<S> {
    inner: S,
    opened: Arc<AtomicU64>,
}

impl<S: tower::Service<R>, R> tower::Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> S::Future {
        self.opened.fetch_add(1, Ordering::Relaxed);
        self.inner.call(req)
    }
}

/// The HTTP clients of one endpoint and what they did.
#[derive(Debug)]
pub struct Pool {
    clients: Vec<reqwest::Client>,
    /// HTTP/2: streams each connection may carry at once; a request waits here (measured as
    /// client queueing) rather than inside the HTTP/2 layer, where no one would see it.
    streams: Vec<Arc<tokio::sync::Semaphore>>,
    next: AtomicUsize,
    opened: Arc<AtomicU64>,
    version: AtomicU8,
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(3600))
}

impl Pool {
    /// Clients for `target` sending `headers`, with up to `in_flight` requests at once.
    pub fn new(
        target: &TargetSpec,
        headers: HeaderMap,
        in_flight: usize,
    ) -> Result<Self, ClientError> {
        let t = &target.transport;
        let ca = match &t.ca_pem {
            Some(pem) => Some(
                reqwest::Certificate::from_pem(pem.as_bytes())
                    .map_err(|e| ClientError::Build(format!("bad CA certificate: {e}")))?,
            ),
            None => None,
        };
        let opened = Arc::new(AtomicU64::new(0));
        let count = if t.http2 {
            t.http2_connections.clamp(1, 1024) as usize
        } else {
            1
        };
        let mut clients = Vec::with_capacity(count);
        for _ in 0..count {
            let mut b = reqwest::Client::builder()
                .default_headers(headers.clone())
                .connect_timeout(secs(target.connect_timeout_s))
                .pool_idle_timeout(Duration::from_secs(90))
                .tcp_nodelay(true)
                // a redirect would send traffic (and the API key) to a host the plan did not name
                .redirect(reqwest::redirect::Policy::none())
                .connector_layer(CountLayer(Arc::clone(&opened)));
            b = if t.http2 {
                // one connection per client, known to be HTTP/2 before it is open (ALPN offers
                // only h2), so requests started together share it instead of racing to open one
                // each
                b.pool_max_idle_per_host(1).http2_prior_knowledge()
            } else {
                // one connection per request in flight, kept for the next request
                b.http1_only().pool_max_idle_per_host(in_flight.max(1))
            };
            if let Some(ca) = &ca {
                b = b.tls_certs_merge([ca.clone()]);
            }
            clients.push(b.build().map_err(|e| ClientError::Build(e.to_string()))?);
        }
        let streams = if t.http2 {
            let per = t.http2_max_streams.max(1) as usize;
            (0..count)
                .map(|_| Arc::new(tokio::sync::Semaphore::new(per)))
                .collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            clients,
            streams,
            next: AtomicUsize::new(0),
            opened,
            version: AtomicU8::new(0),
        })
    }

    /// The client for the next request and, over HTTP/2, a stream slot on its connection (the
    /// connection with the most free slots, ties round-robin); waits while every slot is taken.
    pub async fn client(&self) -> (&reqwest::Client, Option<tokio::sync::OwnedSemaphorePermit>) {
        let n = self.clients.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        if self.streams.is_empty() {
            return (&self.clients[start], None);
        }
        let i = (0..n)
            .map(|k| (start + k) % n)
            .max_by_key(|&i| {
                (
                    self.streams[i].available_permits(),
                    std::cmp::Reverse((i + n - start) % n),
                )
            })
            .unwrap_or(start);
        let permit = Arc::clone(&self.streams[i]).acquire_owned().await.ok();
        (&self.clients[i], permit)
    }

    /// Notes the version a response came back in.
    pub fn saw(&self, v: reqwest::Version) {
        let code = if v == reqwest::Version::HTTP_2 { 2 } else { 1 };
        self.version.store(code, Ordering::Relaxed);
    }

    /// Connections opened so far.
    pub fn connections(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// The version responses came back in, if any came.
    pub fn version(&self) -> Option<HttpVersion> {
        match self.version.load(Ordering::Relaxed) {
            1 => Some(HttpVersion::Http1),
            2 => Some(HttpVersion::Http2),
            _ => None,
        }
    }
}
