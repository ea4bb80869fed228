//! The judge: an OpenAI-compatible chat model asked, with EvalScope's critique prompt, which
//! step first holds the correct answer, and (the `llm` split) to reformat reasoning into
//! paragraphs. A failed request or an empty reply is retried a bounded number of times.

use std::time::Duration;

use bytes::Bytes;
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_common::shard::{ApiKind, GenParams, Secret, TargetSpec};
use swarm_eval::think::locate::parse_judge_index;
use swarm_io::client::EndpointClient;
use swarm_io::client::body::request_body;
use tokio_util::sync::CancellationToken;

/// A judge endpoint.
#[derive(Debug)]
pub struct Judge {
    client: EndpointClient,
    target: TargetSpec,
    retries: u32,
    backoff: Duration,
}

/// The default wait before the first retry (doubled before each later one).
pub const RETRY_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between two tries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the judge said about one sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The step index (-1: none, or the judge failed).
    pub index: i64,
    /// The judge's answer text.
    pub response: String,
    /// Why the request failed, if it did.
    pub error: Option<String>,
}

impl Judge {
    /// A judge at `url` (a chat-completions URL or a base URL) serving `model`.
    pub fn new(
        url: &str,
        model: &str,
        api_key: Option<String>,
        pool: usize,
    ) -> anyhow::Result<Self> {
        let (api, url) = ApiKind::resolve(url);
        if api != ApiKind::Chat {
            anyhow::bail!(
                "--judge-url must be a chat endpoint (.../v1/chat/completions), got {url}"
            );
        }
        let target = TargetSpec {
            url,
            api,
            model: model.to_owned(),
            api_key: api_key.map(Secret),
            headers: vec![],
            connect_timeout_s: 10.0,
            read_timeout_s: 300.0,
            total_timeout_s: 600.0,
            transport: Default::default(),
        };
        let client = EndpointClient::new(&target, None, pool.max(1))?;
        Ok(Self {
            client,
            target,
            retries: 0,
            backoff: RETRY_BACKOFF,
        })
    }

    /// Retries each request up to `retries` more times, waiting `backoff` before the first
    /// retry and twice as long before each next (at most 30 s).
    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    /// The judge's reply to one user prompt (temperature 0, not streamed), tried up to
    /// `1 + retries` times while the request fails or the reply is empty; the error says how
    /// many tries were made and what the last one got.
    pub async fn chat(&self, prompt: &str, cancel: &CancellationToken) -> Result<String, String> {
        let tries = self.retries.saturating_add(1);
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=tries {
            match self.once(prompt, cancel).await {
                Ok(text) if !text.trim().is_empty() => return Ok(text),
                Ok(_) => last = "empty reply".to_owned(),
                Err(e) => last = e,
            }
            if attempt == tries || cancel.is_cancelled() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => break,
            }
            wait = (wait * 2).min(MAX_BACKOFF);
        }
        Err(format!(
            "judge {} ({}): no answer after {tries} tr{}: {last}",
            self.target.model,
            swarm_common::redact::redact_url(&self.target.url),
            if tries == 1 { "y" } else { "ies" }
        ))
    }

    /// Asks the judge which step first holds the correct answer ([`Judge::chat`]; a judge
    /// that gives no answer leaves index -1 and the error).
    pub async fn ask(&self, prompt: &str, cancel: &CancellationToken) -> Verdict {
        match self.chat(prompt, cancel).await {
            Ok(text) => Verdict {
                index: parse_judge_index(&text),
                response: text,
                error: None,
            },
            Err(e) => Verdict {
                index: -1,
                response: String::new(),
                error: Some(e),
            },
        }
    }

    /// One request: the reply's content, or why the request failed.
    async fn once(&self, prompt: &str, cancel: &CancellationToken) -> Result<String, String> {
        let prompt = Prompt {
            body: PromptBody::Messages {
                messages: vec![serde_json::json!({"role": "user", "content": prompt})],
            },
            tokens: None,
        };
        let params = GenParams {
            stream: false,
            max_tokens: None,
            min_tokens: None,
            temperature: Some(0.0),
            top_p: None,
            top_k: None,
            extra: serde_json::Map::new(),
        };
        let body = serde_json::Value::Object(request_body(
            &prompt,
            self.target.api,
            &self.target.model,
            &params,
        ))
        .to_string();
        let (rec, text) = self
            .client
            .complete(Bytes::from(body), "judge", &prompt, cancel)
            .await;
        match rec.error {
            None => Ok(text.answer),
            Some(class) => Err(format!("{class}: {}", rec.error_detail.unwrap_or_default())),
        }
    }
}
