//! A perf shard: everything one agent needs to offer its slice of a stage's load, and nothing
//! that depends on where it runs.

use serde::{Deserialize, Serialize};

use crate::metrics::aggregate::HistSettings;
use crate::prompt_slice::PromptSlice;
use crate::schedule::LoadModel;

/// A secret that travels to agents but never prints.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// Which OpenAI API a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/completions`.
    Completions,
    /// `/v1/embeddings` (EvalScope's `--api openai_embedding`): not generative, never streamed.
    #[serde(alias = "openai_embedding")]
    Embedding,
    /// `/v1/rerank` (EvalScope's `--api openai_rerank`; Jina/Cohere style, as vLLM serves it):
    /// not generative, never streamed.
    #[serde(alias = "openai_rerank")]
    Rerank,
    /// `/v1/responses` (EvalScope's `--api openai_responses`): the OpenAI Responses API,
    /// generative, streamed as typed events (`response.output_text.delta`, ...).
    #[serde(alias = "openai_responses")]
    Responses,
}

impl ApiKind {
    /// Picks the API from the URL path and completes a bare base URL to the chat endpoint.
    /// `http://h/v1/completions` → completions; `http://h/v1/chat/completions`, `http://h/v1`
    /// and `http://h` → chat (the latter two completed to `/v1/chat/completions`).
    pub fn resolve(url: &str) -> (ApiKind, String) {
        let trimmed = url.trim_end_matches('/');
        if trimmed.ends_with("/chat/completions") {
            (ApiKind::Chat, trimmed.to_string())
        } else if trimmed.ends_with("/completions") {
            (ApiKind::Completions, trimmed.to_string())
        } else if trimmed.ends_with("/embeddings") {
            (ApiKind::Embedding, trimmed.to_string())
        } else if trimmed.ends_with("/rerank") || trimmed.ends_with("/reranks") {
            (ApiKind::Rerank, trimmed.to_string())
        } else if trimmed.ends_with("/responses") {
            (ApiKind::Responses, trimmed.to_string())
        } else if trimmed.ends_with("/v1") {
            (ApiKind::Chat, format!("{trimmed}/chat/completions"))
        } else {
            (ApiKind::Chat, format!("{trimmed}/v1/chat/completions"))
        }
    }

    /// The API of EvalScope's `--api NAME` and the endpoint URL: `openai` picks chat or
    /// completions from the URL ([`ApiKind::resolve`]); `openai_embedding` (or `embedding`) and
    /// `openai_rerank` (or `rerank`) keep a URL that already names an endpoint and complete a
    /// base URL (`http://h`, `http://h/v1`) to `/v1/embeddings` or `/v1/rerank`. None for a
    /// name EvalScope's perf does not have (or we do not speak).
    pub fn from_flag(api: &str, url: &str) -> Option<(ApiKind, String)> {
        let kind = match api {
            "openai" => return Some(ApiKind::resolve(url)),
            "openai_embedding" | "embedding" => ApiKind::Embedding,
            "openai_rerank" | "rerank" => ApiKind::Rerank,
            "openai_responses" | "openai_response" | "responses" => ApiKind::Responses,
            _ => return None,
        };
        let trimmed = url.trim_end_matches('/');
        let known = [
            "/chat/completions",
            "/completions",
            "/embeddings",
            "/rerank",
            "/reranks",
            "/responses",
        ];
        if known.iter().any(|e| trimmed.ends_with(e)) {
            return Some((kind, trimmed.to_string()));
        }
        let path = match kind {
            ApiKind::Embedding => "embeddings",
            ApiKind::Responses => "responses",
            _ => "rerank",
        };
        let base = trimmed.strip_suffix("/v1").unwrap_or(trimmed);
        Some((kind, format!("{base}/v1/{path}")))
    }

    /// Whether the API generates tokens (chat, completions, responses) rather than scoring its input
    /// (embeddings, rerank: no stream, no first token, no output tokens).
    pub fn is_generative(self) -> bool {
        matches!(
            self,
            ApiKind::Chat | ApiKind::Completions | ApiKind::Responses
        )
    }
}

/// The endpoint under test and how to talk to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSpec {
    /// Full endpoint URL (`.../v1/chat/completions` or `.../v1/completions`).
    pub url: String,
    /// Which API the URL speaks.
    pub api: ApiKind,
    /// The `model` field of every request.
    pub model: String,
    /// Bearer token, if the endpoint wants one.
    pub api_key: Option<Secret>,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Connection establishment timeout, seconds.
    pub connect_timeout_s: f64,
    /// Longest wait for the next chunk (or the whole body when not streaming), seconds.
    pub read_timeout_s: f64,
    /// Longest a whole request may take, seconds.
    pub total_timeout_s: f64,
    /// HTTP version, connections and trust.
    #[serde(default)]
    pub transport: Transport,
}

/// How the client connects to a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    /// Speak HTTP/2 only (TLS offers just h2 by ALPN; plain http uses prior knowledge). Off: HTTP/1.1 with one
    /// connection per request in flight, as EvalScope and wrk do.
    #[serde(default)]
    pub http2: bool,
    /// With `http2`: connections the streams are spread over, round-robin (at least 1).
    #[serde(default = "one")]
    pub http2_connections: u32,
    /// With `http2`: streams one connection carries at once (servers allow about 100); more
    /// requests wait on the client and that wait is measured as client queueing.
    #[serde(default = "hundred")]
    pub http2_max_streams: u32,
    /// A CA certificate (PEM) trusted besides the system roots, for private endpoints.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// The largest response body read (non-streaming answers); beyond it the request fails
    /// as `too_large` instead of growing the agent's memory.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
    /// The longest event-stream line (or event) buffered while streaming; beyond it the request
    /// fails as `too_large`.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: u64,
}

/// Default [`Transport::max_body_bytes`]: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 16 << 20;
/// Default [`Transport::max_line_bytes`]: 1 MiB.
pub const DEFAULT_MAX_LINE_BYTES: u64 = 1 << 20;

fn default_max_body() -> u64 {
    DEFAULT_MAX_BODY_BYTES
}

fn default_max_line() -> u64 {
    DEFAULT_MAX_LINE_BYTES
}

fn one() -> u32 {
    1
}

fn hundred() -> u32 {
    100
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            http2: false,
            http2_connections: 1,
            http2_max_streams: 100,
            ca_pem: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

impl TargetSpec {
    /// This target as it may be written to a file or shown: the API key, the URL's user
    /// information and secret query parameters, and the values of credential-like headers
    /// ([`crate::redact::is_secret_name`]) replaced by `<redacted>`.
    pub fn redacted(&self) -> TargetSpec {
        TargetSpec {
            url: crate::redact::redact_url(&self.url),
            api_key: self.api_key.as_ref().map(|_| Secret(REDACTED.to_owned())),
            headers: self
                .headers
                .iter()
                .map(|(k, v)| {
                    let v = if crate::redact::is_secret_name(k) {
                        REDACTED.to_owned()
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// What a secret is replaced with wherever it would be shown.
pub const REDACTED: &str = "<redacted>";

/// Generation parameters added to every request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GenParams {
    /// Stream with SSE (and ask for `stream_options.include_usage`).
    pub stream: bool,
    /// `max_tokens`.
    pub max_tokens: Option<u32>,
    /// `min_tokens` (vLLM extension).
    pub min_tokens: Option<u32>,
    /// `temperature`.
    pub temperature: Option<f64>,
    /// `top_p`.
    pub top_p: Option<f64>,
    /// `top_k` (vLLM/SGLang extension).
    pub top_k: Option<i64>,
    /// Extra body keys merged into every request (EvalScope's `--extra-args`).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One agent's slice of one perf stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfShardSpec {
    /// Unique within the run (`<workload>/<stage>/<index>`).
    pub shard_id: String,
    /// Endpoint and client settings.
    pub target: TargetSpec,
    /// Generation parameters.
    pub gen_params: GenParams,
    /// How load is offered.
    pub load: LoadModel,
    /// Requests to send (after warmup); None = until `duration_s`.
    pub number: Option<u64>,
    /// Longest the measured phase may run, seconds; None = until `number` are done.
    pub duration_s: Option<f64>,
    /// Requests sent (and not measured) before the stage starts.
    pub warmup: u32,
    /// The prompts it sends, pulled from the coordinator by the agent (never inline).
    pub prompts: PromptSlice,
    /// Seed for arrival schedules.
    pub seed: u64,
    /// Histogram bounds shared by every shard of the run.
    pub hist: HistSettings,
    /// Tokenizer for token counts when the server sends no `usage` (path or tiktoken name).
    pub tokenizer: Option<String>,
    /// Objectives a request must meet to count toward goodput (none: goodput not measured).
    #[serde(default)]
    pub goodput: Option<crate::goodput::Goodput>,
    /// A ramp of the stage's rate (open loop) or users (closed loop) and this shard's part of it
    /// (none: the load model's fixed rate or users).
    #[serde(default)]
    pub ramp: Option<crate::ramp::ShardRamp>,
    /// A trace replay's share: which lines of the trace (the prompt set) this shard sends and
    /// when (none: the load model's arrivals and the prompt slice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<crate::trace::TraceShare>,
    /// `--multi-turn`: every prompt is a conversation, run turn by turn (none: single requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_turn: Option<crate::multi_turn::MultiTurnSpec>,
}

/// Errors in a shard spec that the executor refuses to run.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShardError {
    /// Neither a request count nor a duration bounds the shard.
    #[error("shard {0}: needs a request count or a duration, or it would never end")]
    Unbounded(String),
    /// The prompt slice cannot be served.
    #[error("shard {0}: bad prompt slice: {1}")]
    BadPrompts(String, String),
    /// Closed loop with zero users.
    #[error("shard {0}: concurrency must be at least 1")]
    ZeroConcurrency(String),
    /// The ramp is unusable.
    #[error("shard {0}: {1}")]
    BadRamp(String, String),
    /// The multi-turn settings are unusable.
    #[error("shard {0}: multi_turn: {1}")]
    BadMultiTurn(String, String),
    /// A duration that is negative or not a number.
    #[error("shard {shard}: {field} must be a positive number of seconds, got {value}")]
    BadSeconds {
        /// The shard.
        shard: String,
        /// Which field.
        field: &'static str,
        /// The value given.
        value: f64,
    },
}

impl PerfShardSpec {
    /// Checks that the shard can run and will end.
    pub fn validate(&self) -> Result<(), ShardError> {
        let id = || self.shard_id.clone();
        if self.number.is_none() && self.duration_s.is_none() {
            return Err(ShardError::Unbounded(id()));
        }
        if let Err(why) = self.prompts.check() {
            return Err(ShardError::BadPrompts(id(), why));
        }
        if let LoadModel::Closed { concurrency: 0 } = self.load {
            return Err(ShardError::ZeroConcurrency(id()));
        }
        if let Some(r) = &self.ramp {
            r.check().map_err(|why| ShardError::BadRamp(id(), why))?;
            if r.ramp.over_s.is_none()
                && (self.number.is_none() || matches!(self.load, LoadModel::Closed { .. }))
            {
                let why = "a ramp without over_s runs over the request count of an open-loop shard";
                return Err(ShardError::BadRamp(id(), why.into()));
            }
        }
        if let Some(share) = &self.trace {
            share
                .check()
                .map_err(|why| ShardError::BadPrompts(id(), why))?;
        }
        if let Some(m) = &self.multi_turn {
            m.check()
                .map_err(|why| ShardError::BadMultiTurn(id(), why))?;
        }
        let t = &self.target;
        for (field, value) in [
            ("connect_timeout_s", t.connect_timeout_s),
            ("read_timeout_s", t.read_timeout_s),
            ("total_timeout_s", t.total_timeout_s),
        ]
        .into_iter()
        .chain(self.duration_s.map(|d| ("duration_s", d)))
        {
            if !(value.is_finite() && value > 0.0) {
                return Err(ShardError::BadSeconds {
                    shard: id(),
                    field,
                    value,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_from_url() {
        assert_eq!(
            ApiKind::resolve("http://h:1/v1/completions").0,
            ApiKind::Completions
        );
        assert_eq!(
            ApiKind::resolve("http://h:1/v1/embeddings/").0,
            ApiKind::Embedding
        );
        assert_eq!(ApiKind::resolve("http://h:1/v1/rerank").0, ApiKind::Rerank);
        assert_eq!(
            ApiKind::from_flag("openai_embedding", "http://h:1/v1"),
            Some((ApiKind::Embedding, "http://h:1/v1/embeddings".to_string()))
        );
        assert_eq!(
            ApiKind::from_flag("openai_rerank", "http://h:1"),
            Some((ApiKind::Rerank, "http://h:1/v1/rerank".to_string()))
        );
        assert_eq!(
            ApiKind::from_flag("rerank", "http://h:1/compatible-api/v1/reranks/"),
            Some((
                ApiKind::Rerank,
                "http://h:1/compatible-api/v1/reranks".to_string()
            ))
        );
        assert_eq!(ApiKind::from_flag("openai_chat", "http://h:1"), None);
        assert_eq!(
            ApiKind::from_flag("openai_responses", "http://h:1/v1/"),
            Some((ApiKind::Responses, "http://h:1/v1/responses".to_string()))
        );
        assert_eq!(
            ApiKind::from_flag("responses", "http://h:1/api/v1/responses"),
            Some((
                ApiKind::Responses,
                "http://h:1/api/v1/responses".to_string()
            ))
        );
        assert_eq!(
            ApiKind::resolve("http://h:1/v1/responses").0,
            ApiKind::Responses
        );
        assert!(ApiKind::Responses.is_generative());
        let k: ApiKind = serde_json::from_str("\"openai_responses\"").expect("alias");
        assert_eq!(k, ApiKind::Responses);
        assert!(!ApiKind::Rerank.is_generative() && ApiKind::Chat.is_generative());
        assert_eq!(
            ApiKind::resolve("http://h:1/v1/chat/completions/"),
            (ApiKind::Chat, "http://h:1/v1/chat/completions".to_string())
        );
        assert_eq!(
            ApiKind::resolve("http://h:1").1,
            "http://h:1/v1/chat/completions"
        );
        assert_eq!(
            ApiKind::resolve("http://h:1/v1").1,
            "http://h:1/v1/chat/completions"
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret("sk-very-secret".into());
        assert!(!format!("{s:?}").contains("sk-"));
    }

    #[test]
    fn redacted_targets_keep_no_credentials() {
        let t = TargetSpec {
            url: "http://h/v1/chat/completions".into(),
            api: ApiKind::Chat,
            model: "m".into(),
            api_key: Some(Secret("sk-very-secret".into())),
            headers: vec![
                ("Authorization".into(), "Bearer abc".into()),
                ("X-Api-Key".into(), "k1".into()),
                ("x-auth-token".into(), "k2".into()),
                ("x-trace".into(), "keep-me".into()),
            ],
            connect_timeout_s: 1.0,
            read_timeout_s: 2.0,
            total_timeout_s: 3.0,
            transport: Default::default(),
        };
        let r = t.redacted();
        let json = serde_json::to_string(&r).unwrap();
        for secret in ["sk-very-secret", "Bearer abc", "k1", "k2"] {
            assert!(!json.contains(secret), "{secret} in {json}");
        }
        assert!(json.contains("keep-me"));
        assert_eq!(r.url, t.url);
        assert_eq!(r.total_timeout_s, 3.0);
    }
}
