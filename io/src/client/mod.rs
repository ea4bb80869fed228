//! The endpoint client: sends one OpenAI-compatible request and measures it.

pub mod body;
pub mod chunk;
pub mod meter;
pub mod responses;
mod retrieval;
pub mod sse;
mod tokens;
pub mod transport;
mod wire_body;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use swarm_common::metrics::{ErrorClass, RequestRecord};
use swarm_common::prompt::Prompt;
use swarm_common::shard::{ApiKind, TargetSpec};
use swarm_common::tokenize::TokenCounter;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::meter::{Meter, clip};
use self::sse::SseParser;

/// Errors building a client from a target spec.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL does not parse.
    #[error("invalid endpoint url {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A header name or value is not valid HTTP.
    #[error("invalid header {name:?}: {reason}")]
    BadHeader {
        /// The header name.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("cannot build http client: {0}")]
    Build(String),
}

/// The text a response carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    /// Answer content (chat `content` or completions `text`).
    pub answer: String,
    /// Reasoning (`reasoning_content` / `reasoning`), kept apart from the answer.
    pub reasoning: String,
    /// Whether the server's usage said how many prompt tokens it served from its cache
    /// (`prompt_tokens_details.cached_tokens`); without it the record's cached tokens are 0.
    pub cached_reported: bool,
}

/// Measures requests against one endpoint. Cheap to share: clone the `Arc`.
#[derive(Debug)]
pub struct EndpointClient {
    http: transport::Pool,
    max_body: usize,
    max_line: usize,
    url: reqwest::Url,
    api: ApiKind,
    total_timeout: Duration,
    read_timeout: Duration,
    tokenizer: Option<Arc<dyn TokenCounter>>,
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(3600))
}

impl EndpointClient {
    /// A client for `target`, pooling up to `pool` idle connections.
    pub fn new(
        target: &TargetSpec,
        tokenizer: Option<Arc<dyn TokenCounter>>,
        pool: usize,
    ) -> Result<Self, ClientError> {
        crate::tls::install_crypto_provider();
        let url = reqwest::Url::parse(&target.url).map_err(|e| ClientError::BadUrl {
            url: swarm_common::redact::redact_url(&target.url),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ClientError::BadUrl {
                url: swarm_common::redact::redact_url(&target.url),
                reason: "scheme must be http or https".into(),
            });
        }
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(key) = &target.api_key {
            let v = HeaderValue::from_str(&format!("Bearer {}", key.0)).map_err(|e| {
                ClientError::BadHeader {
                    name: "authorization".into(),
                    reason: e.to_string(),
                }
            })?;
            headers.insert(AUTHORIZATION, v);
        }
        for (k, v) in &target.headers {
            let bad = |reason: String| ClientError::BadHeader {
                name: k.clone(),
                reason,
            };
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let value = HeaderValue::from_str(v).map_err(|e| bad(e.to_string()))?;
            headers.insert(name, value);
        }
        // fixed headers live on the client: no per-request header map is built on the hot path
        let http = transport::Pool::new(target, headers, pool)?;
        Ok(Self {
            http,
            max_body: usize::try_from(target.transport.max_body_bytes).unwrap_or(usize::MAX),
            max_line: usize::try_from(target.transport.max_line_bytes).unwrap_or(usize::MAX),
            url,
            api: target.api,
            total_timeout: secs(target.total_timeout_s),
            read_timeout: secs(target.read_timeout_s),
            tokenizer,
        })
    }

    /// Connections opened to the endpoint so far.
    pub fn connections(&self) -> u64 {
        self.http.connections()
    }

    /// The HTTP version answers came back in, once one came.
    pub fn http_version(&self) -> Option<transport::HttpVersion> {
        self.http.version()
    }

    /// Sends one request body and measures it. The returned record's times are relative to the
    /// send; the caller stamps `id`, `scheduled_us` and `sent_us`. Never fails: every problem is
    /// a classified error in the record.
    pub async fn send(
        &self,
        body: Bytes,
        request_id: &str,
        prompt: &Prompt,
        cancel: &CancellationToken,
    ) -> RequestRecord {
        self.measure(body, request_id, prompt, cancel, self.tokenizer.is_some())
            .await
            .0
    }

    /// Like [`EndpointClient::send`], and also returns the generated text (what evals score).
    pub async fn complete(
        &self,
        body: Bytes,
        request_id: &str,
        prompt: &Prompt,
        cancel: &CancellationToken,
    ) -> (RequestRecord, Completion) {
        self.measure(body, request_id, prompt, cancel, true).await
    }

    async fn measure(
        &self,
        body: Bytes,
        request_id: &str,
        prompt: &Prompt,
        cancel: &CancellationToken,
        keep_text: bool,
    ) -> (RequestRecord, Completion) {
        let mut meter = Meter::new(keep_text);
        meter.responses = self.api == ApiKind::Responses;
        let mut status = 0u16;
        let t0 = Instant::now();
        let deadline = t0 + self.total_timeout;
        let progress_us = AtomicU64::new(0);
        let taken = Arc::new(std::sync::OnceLock::new());
        let body = reqwest::Body::wrap(wire_body::WireBody::new(body, Arc::clone(&taken)));
        let exchange = self.exchange(body, request_id, t0, &progress_us, &mut meter, &mut status);
        let outcome = tokio::select! {
            r = exchange => r,
            _ = self.read_watchdog(t0, &progress_us) => Err((ErrorClass::Timeout, format!("read timeout: nothing received for {:?}", self.read_timeout))),
            _ = tokio::time::sleep_until(deadline) => Err((ErrorClass::Timeout, format!("total timeout of {:?} expired", self.total_timeout))),
            _ = cancel.cancelled() => Err((ErrorClass::Cancelled, "run cancelled".to_string())),
        };
        let end_us = t0.elapsed().as_micros() as u64;
        if let Err(e) = outcome {
            meter.error.get_or_insert(e);
        }
        let latency_us = match (&meter.error, meter.last_data_us) {
            (None, Some(last)) => last,
            _ => end_us,
        };
        let (prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, token_source) =
            tokens::resolve(&meter, prompt, self.tokenizer.as_deref());
        let (error, error_detail) = match meter.error.take() {
            Some((class, detail)) => (Some(class), Some(detail)),
            None => (None, None),
        };
        let completion = Completion {
            answer: std::mem::take(&mut meter.answer),
            reasoning: std::mem::take(&mut meter.reasoning),
            cached_reported: token_source == swarm_common::metrics::TokenSource::Usage
                && meter
                    .usage
                    .and_then(|u| u.prompt_tokens_details)
                    .and_then(|d| d.cached_tokens)
                    .is_some(),
        };
        let record = RequestRecord {
            ttft_us: meter.ttft_us,
            ttfo_us: meter.ttfo_us,
            latency_us,
            chunk_us: std::mem::take(&mut meter.chunk_us),
            prompt_tokens,
            completion_tokens,
            reasoning_tokens,
            cached_tokens,
            token_source,
            status,
            error,
            error_detail,
            queue_us: taken
                .get()
                .map(|at| at.saturating_duration_since(t0).as_micros() as u64),
            ..Default::default()
        };
        (record, completion)
    }

    /// Resolves when nothing arrived for the read timeout. One timer per request, re-armed only
    /// when it fires (not on every chunk): `progress_us` is the last arrival, from `t0`.
    async fn read_watchdog(&self, t0: Instant, progress_us: &AtomicU64) {
        let mut due = t0 + self.read_timeout;
        loop {
            tokio::time::sleep_until(due).await;
            let last = t0 + Duration::from_micros(progress_us.load(Ordering::Relaxed));
            let next = last + self.read_timeout;
            if next <= Instant::now() {
                return;
            }
            due = next;
        }
    }

    async fn exchange(
        &self,
        body: reqwest::Body,
        request_id: &str,
        t0: Instant,
        progress_us: &AtomicU64,
        meter: &mut Meter,
        status: &mut u16,
    ) -> Result<(), (ErrorClass, String)> {
        // the stream slot is held until the answer is read
        let (client, _slot) = self.http.client().await;
        let resp = client
            .post(self.url.clone())
            .header("x-request-id", request_id)
            .body(body)
            .send()
            .await
            .map_err(transport_error)?;
        *status = resp.status().as_u16();
        self.http.saw(resp.version());
        progress_us.store(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
        if !resp.status().is_success() {
            let class = ErrorClass::from_status(*status);
            let text = error_body(resp).await;
            return Err((class, clip(&format!("http {status}: {text}"))));
        }
        let is_sse = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut stream = resp.bytes_stream();
        if is_sse {
            let mut parser = SseParser::new();
            while let Some(piece) = stream.next().await {
                let piece = piece.map_err(transport_error)?;
                let at = t0.elapsed().as_micros() as u64;
                progress_us.store(at, Ordering::Relaxed);
                parser.feed(&piece, |ev| meter.on_data(ev.data, ev.event, at));
                if meter.error.is_some() {
                    return Ok(());
                }
                if parser.pending() > self.max_line {
                    return Err((
                        ErrorClass::TooLarge,
                        format!(
                            "an event-stream line grew past {} bytes without ending",
                            self.max_line
                        ),
                    ));
                }
            }
            let at = t0.elapsed().as_micros() as u64;
            parser.finish(|ev| meter.on_data(ev.data, ev.event, at));
            meter.on_end();
        } else {
            let mut whole = Vec::new();
            while let Some(piece) = stream.next().await {
                whole.extend_from_slice(&piece.map_err(transport_error)?);
                progress_us.store(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
                if whole.len() > self.max_body {
                    return Err((
                        ErrorClass::TooLarge,
                        format!("the response body grew past {} bytes", self.max_body),
                    ));
                }
            }
            let at = t0.elapsed().as_micros() as u64;
            meter.last_data_us = Some(at);
            if !self.api.is_generative() {
                // embeddings and rerank: one answer, no first token, usage only
                meter.usage = retrieval::parse(self.api, &whole).map_err(|e| {
                    let text = String::from_utf8_lossy(&whole);
                    (ErrorClass::Malformed, clip(&format!("{e}: {text}")))
                })?;
                return Ok(());
            }
            if self.api == ApiKind::Responses {
                return match serde_json::from_slice::<responses::Response<'_>>(&whole) {
                    Ok(r) if r.looks_like_a_response() || r.failed() => {
                        meter.on_response(&r, &whole, at);
                        Ok(())
                    }
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&whole);
                        Err((
                            ErrorClass::Malformed,
                            clip(&format!("response has no output or usage: {text}")),
                        ))
                    }
                    Err(e) => {
                        let text = String::from_utf8_lossy(&whole);
                        Err((ErrorClass::Malformed, clip(&format!("{e}: {text}"))))
                    }
                };
            }
            match chunk::Chunk::parse(&whole) {
                Ok(c) if c.has_choices() || c.error.is_some() => meter.on_chunk(&c, &whole, at),
                Ok(_) => {
                    let text = String::from_utf8_lossy(&whole);
                    return Err((
                        ErrorClass::Malformed,
                        clip(&format!("response has no choices: {text}")),
                    ));
                }
                Err(e) => {
                    let text = String::from_utf8_lossy(&whole);
                    return Err((ErrorClass::Malformed, clip(&format!("{e}: {text}"))));
                }
            }
        }
        Ok(())
    }
}

/// Classifies a transport error from the HTTP client (its text without the URL, which may
/// carry credentials).
fn transport_error(e: reqwest::Error) -> (ErrorClass, String) {
    let e = e.without_url();
    let class = if e.is_timeout() {
        ErrorClass::Timeout
    } else if e.is_connect() {
        ErrorClass::Connect
    } else if e.is_body() || e.is_decode() || e.is_request() {
        ErrorClass::Reset
    } else {
        ErrorClass::Other
    };
    let mut detail = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        src = s.source();
    }
    if let Some(hint) = crate::nofile::hint(&detail) {
        // the hint first: clipping must not cut it off
        detail = format!("{hint}: {detail}");
    }
    (class, clip(&detail))
}

/// The start of an error response's body: at most [`ERROR_BODY_MAX`] bytes are read, so a
/// hostile server cannot make the client buffer an endless error page.
async fn error_body(resp: reqwest::Response) -> String {
    let mut stream = resp.bytes_stream();
    let mut kept = Vec::new();
    while let Some(Ok(piece)) = stream.next().await {
        let room = ERROR_BODY_MAX - kept.len();
        kept.extend_from_slice(&piece[..piece.len().min(room)]);
        if kept.len() >= ERROR_BODY_MAX {
            break;
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// How much of an error body is read.
const ERROR_BODY_MAX: usize = 16 * 1024;
