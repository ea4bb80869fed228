//! The LLM judge of an eval batch: the shard spec's judge endpoint asked about one sample's
//! prediction with EvalScope's prompt (`swarm_eval::judge::prompt`), its reply read by the
//! output contract (`swarm_eval::judge::parse`). A request that fails is tried again (at most
//! `judge::MAX_ATTEMPTS` in all, backing off); a reply that breaks the contract is not. Every
//! attempt is kept for the review line.

use std::time::Duration;

use bytes::Bytes;
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_eval::Sample;
use swarm_eval::judge::{
    self, JudgeAttempt, JudgeKind, JudgeReview, JudgeSpec, ScoreStatus, parse, prompt,
};
use swarm_io::client::{EndpointClient, body::request_body};
use tokio_util::sync::CancellationToken;

/// The first wait before a judge request is tried again (doubling after each failure).
const BACKOFF: Duration = Duration::from_millis(100);

/// A batch's judge: its endpoint client and what it is asked.
pub struct EvalJudge {
    client: EndpointClient,
    spec: JudgeSpec,
}

impl EvalJudge {
    /// The judge of `spec`, with up to `pool` requests in flight.
    pub fn new(spec: &JudgeSpec, pool: usize) -> Result<Self, String> {
        let client = EndpointClient::new(&spec.target, None, pool.max(1))
            .map_err(|e| format!("judge {}: {e}", spec.judge_id))?;
        Ok(Self {
            client,
            spec: spec.clone(),
        })
    }

    /// The strategy of the run.
    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// Asks the judge about `pred`, the whole completion for `sample`, whose filtered answer is
    /// `filtered` (None: cancelled).
    pub async fn review(
        &self,
        kind: JudgeKind,
        sample: &Sample,
        (pred, filtered): (&str, &str),
        cancel: &CancellationToken,
    ) -> Option<JudgeReview> {
        let contract = prompt::Contract::of(kind, &self.spec.contract);
        let messages = prompt::request(
            kind,
            &self.spec.contract,
            &sample.messages,
            &sample.gold,
            (pred, filtered),
        );
        let case_id = match kind {
            JudgeKind::Generic => "judge",
            JudgeKind::Equivalence => "equivalence",
            JudgeKind::Custom(c) => c.case_id,
        };
        let scores = self.spec.contract.mapping();
        let body = serde_json::Value::Object(request_body(
            &Prompt {
                body: PromptBody::Messages {
                    messages: messages.clone(),
                },
                tokens: None,
            },
            self.spec.target.api,
            &self.spec.target.model,
            &self.spec.gen_params,
        ))
        .to_string();
        let prompt = Prompt {
            body: PromptBody::Messages {
                messages: messages.clone(),
            },
            tokens: None,
        };
        let id = format!("judge:{}", sample.id);
        let mut attempts = Vec::new();
        let mut wait = BACKOFF;
        let attempt = |status, raw: Option<String>, parsed, error, latency: f64| JudgeAttempt {
            status,
            case_id: case_id.to_owned(),
            judge_id: self.spec.judge_id.clone(),
            repeat_id: 0,
            placement: "original".to_owned(),
            messages: messages.clone(),
            raw_response: raw,
            parsed_value: parsed,
            error,
            latency: Some(latency),
        };
        for n in 1..=judge::MAX_ATTEMPTS {
            let (rec, text) = self
                .client
                .complete(Bytes::from(body.clone()), &id, &prompt, cancel)
                .await;
            if cancel.is_cancelled() {
                return None;
            }
            let latency = rec.latency_us as f64 / 1e6;
            if let Some(class) = rec.error {
                let why = format!("{class}: {}", rec.error_detail.unwrap_or_default());
                attempts.push(attempt(
                    ScoreStatus::TransportError,
                    None,
                    None,
                    Some(why),
                    latency,
                ));
                if n < judge::MAX_ATTEMPTS {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = cancel.cancelled() => return None,
                    }
                    wait *= 2;
                }
                continue;
            }
            let raw = text.answer;
            return Some(
                match parse::parse(&raw, &contract, &scores, judge::combine::JUDGE_METRIC) {
                    Ok(v) => {
                        attempts.push(attempt(
                            ScoreStatus::Success,
                            Some(raw),
                            Some(v.parsed.clone()),
                            None,
                            latency,
                        ));
                        JudgeReview::new(&self.spec.judge_id, attempts, Some(v))
                    }
                    Err(e) => {
                        attempts.push(attempt(
                            ScoreStatus::ParseError,
                            Some(raw),
                            None,
                            Some(e),
                            latency,
                        ));
                        JudgeReview::new(&self.spec.judge_id, attempts, None)
                    }
                },
            );
        }
        Some(JudgeReview::new(&self.spec.judge_id, attempts, None))
    }
}
