//! `--multi-turn`: one conversation, turn by turn. Turn `k` sends the conversation's turns
//! `0..=k` with the model's answers (the streamed text received) between them, so a server's
//! prefix cache sees each turn extend the last; a failed turn ends the conversation (as
//! EvalScope abandons it). The history lives only while its conversation runs.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use swarm_common::prompt::{Prompt, PromptBody};

use super::context::ShardCtx;
use swarm_io::client::body;

impl ShardCtx {
    /// Runs measured conversation `index` (its first turn scheduled at `scheduled_us` in an
    /// open loop), handing every turn's record to the sink as it finishes.
    pub async fn run_conversation_measured(
        self: &Arc<Self>,
        index: u64,
        scheduled_us: Option<u64>,
    ) {
        self.run_conversation(index, scheduled_us, true).await;
    }

    /// Runs conversation `index` (warmups count from 0, measured ones after them); only a
    /// measured one's records go to the sink.
    pub async fn run_conversation(&self, index: u64, scheduled_us: Option<u64>, measured: bool) {
        let q = if measured {
            u64::from(self.spec.warmup) + index
        } else {
            index
        };
        let Some(prompt) = self.prompts.get(self.spec.prompts.slot(q)) else {
            return;
        };
        let single;
        let turns: &[Vec<Value>] = match &prompt.body {
            PromptBody::Conversation { turns } => turns,
            // a prompt that is no conversation is a conversation of one turn
            PromptBody::Messages { messages } => std::slice::from_ref(messages),
            other => {
                let text = Prompt {
                    body: other.clone(),
                    tokens: None,
                }
                .plain_text();
                single = vec![json!({"role": "user", "content": text})];
                std::slice::from_ref(&single)
            }
        };
        let think = self
            .spec
            .multi_turn
            .map_or(0.0, |m| m.think_time_s)
            .max(0.0);
        let mut history: Vec<Value> = Vec::new();
        // the previous turn's tokens, for EvalScope's cached-token estimate
        let (mut prev_prompt, mut prev_completion) = (0u32, 0u32);
        for (k, turn) in turns.iter().enumerate() {
            if k > 0 && think > 0.0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs_f64(think)) => {}
                    _ = self.cancel.cancelled() => {}
                }
            }
            if self.cancel.is_cancelled() {
                break;
            }
            history.extend(turn.iter().cloned());
            let sent = Prompt {
                body: PromptBody::Messages {
                    messages: history.clone(),
                },
                tokens: None,
            };
            let t = &self.spec.target;
            let bytes = Bytes::from(
                Value::Object(body::request_body(
                    &sent,
                    t.api,
                    &t.model,
                    &self.spec.gen_params,
                ))
                .to_string(),
            );
            let request_id = format!(
                "{}-{}c{index}t{k}",
                self.spec.shard_id,
                if measured { "" } else { "w" }
            );
            let sent_us = self.epoch.elapsed().as_micros() as u64;
            let (mut rec, answer) = self
                .client
                .complete(bytes, &request_id, &sent, &self.cancel)
                .await;
            let ok = rec.is_success();
            if ok && !answer.cached_reported && rec.prompt_tokens > 0 {
                // EvalScope without a server count: the previous turn's prompt and answer
                // were in the cache (a first turn: nothing)
                rec.cached_tokens = if prev_prompt > 0 {
                    prev_prompt.saturating_add(prev_completion)
                } else {
                    0
                };
            }
            if rec.prompt_tokens > 0 {
                prev_prompt = rec.prompt_tokens;
            }
            if rec.completion_tokens > 0 {
                prev_completion = rec.completion_tokens;
            }
            if measured {
                rec.id = self.next_turn_id();
                rec.sent_us = sent_us;
                rec.scheduled_us = if k == 0 { scheduled_us } else { None };
                rec.conversation = Some(index);
                rec.turn = Some(u32::try_from(k).unwrap_or(u32::MAX));
                self.emit(rec);
            }
            if !ok {
                break;
            }
            history.push(json!({"role": "assistant", "content": answer.answer}));
        }
    }
}
