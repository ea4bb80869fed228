//! The judge: an OpenAI-compatible chat model asked, with EvalScope's critique prompt, which
//! step first holds the correct answer.

use bytes::Bytes;
use swarm_agent::client::EndpointClient;
use swarm_agent::client::body::request_body;
use swarm_common::eval::think::locate::parse_judge_index;
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_common::shard::{ApiKind, GenParams, Secret, TargetSpec};
use tokio_util::sync::CancellationToken;

/// A judge endpoint.
#[derive(Debug)]
pub struct Judge {
    client: EndpointClient,
    target: TargetSpec,
}

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
        };
        let client = EndpointClient::new(&target, None, pool.max(1))?;
        Ok(Self { client, target })
    }

    /// Asks the judge about one prompt (temperature 0, not streamed).
    pub async fn ask(&self, prompt: &str, cancel: &CancellationToken) -> Verdict {
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
            None => Verdict {
                index: parse_judge_index(&text.answer),
                response: text.answer,
                error: None,
            },
            Some(class) => Verdict {
                index: -1,
                response: String::new(),
                error: Some(format!("{class}: {}", rec.error_detail.unwrap_or_default())),
            },
        }
    }
}
