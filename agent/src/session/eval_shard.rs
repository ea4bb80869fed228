//! One assigned eval batch: generate every (sample, repeat) through the endpoint with bounded
//! concurrency, filter, extract and score on the agent, and stream `ScoredSamples` back, then
//! `ShardDone` (or `ShardFailed` when the batch cannot run at all).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_eval::task::{self, EvalShardSpec, Prediction};
use swarm_eval::{Sample, registry};
use swarm_proto::agent_message::Msg;
use swarm_proto::{ScoredSamples, ShardDone, ShardFailed, Snapshot};
use tokio_util::sync::CancellationToken;

use super::eval_judge::EvalJudge;
use super::outbox::{LinkDown, Outbox};
use swarm_eval::judge::combine::{combine, needs_judge};
use swarm_io::client::{
    EndpointClient,
    body::{request_body, wants_stream},
};
use swarm_sandbox::batch::Sandboxes;

/// Predictions are sent in batches of at most this many (or every `flush_every`).
const BATCH: usize = 16;

async fn send_batch(
    out: &Outbox,
    shard_id: &str,
    seq: &mut u64,
    batch: &mut Vec<Prediction>,
) -> Result<(), LinkDown> {
    if batch.is_empty() {
        return Ok(());
    }
    // each message stays under the protocol's bound: lines are grouped by bytes
    let budget = swarm_proto::MAX_MESSAGE_BYTES - 16 * 1024;
    let mut jsonl = Vec::new();
    for mut p in batch.drain(..) {
        let Ok(mut line) = serde_json::to_vec(&p) else {
            continue;
        };
        if line.len() + 1 > budget {
            // a prediction too large for any message: kept as a failure that says why
            let size = line.len();
            p.completion = String::new();
            p.reasoning = String::new();
            // the judge's prompt and reply too: the prediction is retried as a whole
            p.judge = None;
            p.error = Some(format!(
                "prediction of {size} bytes is larger than a message may carry ({budget} bytes)"
            ));
            line = serde_json::to_vec(&p).unwrap_or_default();
            if line.is_empty() || line.len() + 1 > budget {
                continue;
            }
        }
        if !jsonl.is_empty() && jsonl.len() + line.len() + 1 > budget {
            *seq += 1;
            out.send(Msg::Scored(ScoredSamples {
                shard_id: shard_id.to_string(),
                seq: *seq,
                jsonl: std::mem::take(&mut jsonl),
            }))
            .await?;
        }
        jsonl.extend_from_slice(&line);
        jsonl.push(b'\n');
    }
    if jsonl.is_empty() {
        return Ok(());
    }
    *seq += 1;
    out.send(Msg::Scored(ScoredSamples {
        shard_id: shard_id.to_string(),
        seq: *seq,
        jsonl,
    }))
    .await
}

/// Runs one eval batch until done or cancelled, reporting through `out`.
pub async fn run(
    shard_id: String,
    spec: EvalShardSpec,
    out: Outbox,
    flush_every: Duration,
    cancel: CancellationToken,
    (agent, policy): (String, swarm_sandbox::policy::SandboxPolicy),
) {
    let fail = |reason: String| {
        Msg::Failed(ShardFailed {
            shard_id: shard_id.clone(),
            reason,
        })
    };
    let bench = match registry::benchmark(&spec.benchmark) {
        Ok(b) => Arc::from(b),
        Err(e) => {
            let _ = out.send(fail(e.to_string())).await;
            return;
        }
    };
    let bench: Arc<dyn swarm_eval::Benchmark> = bench;
    let filters = match task::filters(&spec.benchmark, &spec.args) {
        Ok(f) => Arc::new(f),
        Err(e) => {
            let _ = out.send(fail(e.to_string())).await;
            return;
        }
    };
    // samples that run code (a code benchmark's, a collection's code lines) run it in the
    // sandbox their `sandbox_config` asks for; one that cannot be made fails the batch
    let code: Vec<Sample> = spec
        .items
        .iter()
        .filter(|(s, _)| bench.runs_code_on(s))
        .map(|(s, _)| s.clone())
        .collect();
    let sandboxes = if code.is_empty() {
        Arc::new(Sandboxes::default())
    } else {
        let (b, args) = (Arc::clone(&bench), spec.args.clone());
        match tokio::task::spawn_blocking(move || {
            Sandboxes::for_samples(b.as_ref(), &args, &code, (&agent, &policy))
        })
        .await
        {
            Ok(Ok(s)) => Arc::new(s),
            Ok(Err(e)) => {
                let _ = out.send(fail(format!("shard {shard_id}: {e}"))).await;
                return;
            }
            Err(e) => {
                let _ = out
                    .send(fail(format!("shard {shard_id}: sandbox start: {e}")))
                    .await;
                return;
            }
        }
    };
    let client = match EndpointClient::new(&spec.target, None, spec.concurrency.max(1) as usize) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            let _ = out.send(fail(format!("shard {shard_id}: {e}"))).await;
            return;
        }
    };
    let width = spec.concurrency.max(1) as usize;
    let judge = match spec.judge.as_ref().map(|j| EvalJudge::new(j, width)) {
        None => None,
        Some(Ok(j)) => Some(Arc::new(j)),
        Some(Err(e)) => {
            let _ = out.send(fail(format!("shard {shard_id}: {e}"))).await;
            return;
        }
    };
    let (target, gen_params) = (spec.target.clone(), spec.gen_params.clone());
    let mut results = futures::stream::iter(spec.items)
        .map(|(sample, repeat)| {
            let (client, bench, filters, cancel) = (
                Arc::clone(&client),
                Arc::clone(&bench),
                Arc::clone(&filters),
                cancel.clone(),
            );
            let sandboxes = bench.runs_code_on(&sample).then(|| Arc::clone(&sandboxes));
            let judge = judge.clone();
            let (target, gen_params) = (target.clone(), gen_params.clone());
            async move {
                let prompt = Prompt {
                    body: PromptBody::Messages {
                        messages: sample.messages.clone(),
                    },
                    tokens: None,
                };
                let body = request_body(&prompt, target.api, &target.model, &gen_params);
                // EvalScope measures TTFT only on streamed requests
                let streamed = wants_stream(&body);
                let body = serde_json::Value::Object(body).to_string();
                let id = format!("{}#{repeat}", sample.id);
                let (rec, text) = client
                    .complete(Bytes::from(body), &id, &prompt, &cancel)
                    .await;
                let (extracted, score, mut error) = match (&rec.error, sandboxes) {
                    (None, None) => {
                        let (extracted, score) =
                            task::score(bench.as_ref(), &filters, &sample, &text.answer);
                        (extracted, score, None)
                    }
                    (None, Some(sandboxes)) => {
                        // running code blocks: off the async threads
                        let (b, f) = (Arc::clone(&bench), Arc::clone(&filters));
                        let (s, answer) = (sample.clone(), text.answer.clone());
                        let scored = tokio::task::spawn_blocking(move || {
                            let ctx = sandboxes.context(&s);
                            task::score_in(b.as_ref(), &f, &s, &answer, &ctx)
                        })
                        .await;
                        match scored {
                            Ok((extracted, score)) => (extracted, score, None),
                            Err(e) => {
                                let (_, mut score) =
                                    task::score(bench.as_ref(), &filters, &sample, "");
                                score.values.values_mut().for_each(|v| *v = 0.0);
                                (String::new(), score, Some(format!("scoring: {e}")))
                            }
                        }
                    }
                    (Some(class), _) => {
                        let (_, mut score) = task::score(bench.as_ref(), &filters, &sample, "");
                        score.values.values_mut().for_each(|v| *v = 0.0);
                        (
                            String::new(),
                            score,
                            Some(format!(
                                "{class}: {}",
                                rec.error_detail.clone().unwrap_or_default()
                            )),
                        )
                    }
                };
                // the judge, where the strategy asks it about this sample
                let (score, judgement) = match (&judge, &error) {
                    (Some(judge), None) => {
                        let (strategy, policy) = (judge.spec().strategy, bench.scoring_policy());
                        let review = if needs_judge(strategy, policy, &score) {
                            judge
                                .review(
                                    bench.judge_kind(),
                                    &sample,
                                    (&text.answer, &extracted),
                                    &cancel,
                                )
                                .await
                        } else {
                            None
                        };
                        match combine(strategy, policy, score.clone(), review.as_ref()) {
                            Ok(judged) => judged,
                            // asked and cancelled: not a prediction, left for the next lease
                            Err(_) => {
                                error = Some("cancelled: judge request".to_owned());
                                (score, None)
                            }
                        }
                    }
                    _ => (score, None),
                };
                Prediction {
                    benchmark: sample.benchmark.clone(),
                    subset: sample.subset.clone(),
                    sample_id: sample.id.clone(),
                    repeat,
                    completion: text.answer,
                    reasoning: text.reasoning,
                    extracted,
                    score,
                    prompt_tokens: rec.prompt_tokens,
                    completion_tokens: rec.completion_tokens,
                    reasoning_tokens: rec.reasoning_tokens,
                    latency_us: rec.latency_us,
                    // the first chunk carrying text (answer or reasoning), as EvalScope's TTFT
                    ttft_us: streamed.then(|| rec.chunk_us.first().copied()).flatten(),
                    error,
                    judge: judgement,
                }
            }
        })
        .buffer_unordered(width);
    let mut batch = Vec::new();
    let (mut seq, mut done, mut cancelled) = (0u64, 0u64, false);
    let mut tick = tokio::time::interval(flush_every);
    let reported: Result<(), LinkDown> = async {
        loop {
            tokio::select! {
                next = results.next() => match next {
                    Some(p) => {
                        // a cancelled request is not a prediction: leave it for the next lease
                        if p.error.as_deref().is_some_and(|e| e.starts_with("cancelled")) {
                            cancelled = true;
                            continue;
                        }
                        done += 1;
                        batch.push(p);
                        if batch.len() >= BATCH {
                            send_batch(&out, &shard_id, &mut seq, &mut batch).await?;
                        }
                    }
                    None => break,
                },
                _ = tick.tick() => send_batch(&out, &shard_id, &mut seq, &mut batch).await?,
            }
        }
        send_batch(&out, &shard_id, &mut seq, &mut batch).await?;
        let stop = if cancelled || cancel.is_cancelled() {
            swarm_proto::StopReason::Cancelled
        } else {
            swarm_proto::StopReason::Count
        };
        out.send(Msg::Done(ShardDone {
            shard_id: shard_id.clone(),
            seq: 0,
            last: Some(Snapshot::default()),
            requests: done,
            stop: stop as i32,
            ..Default::default()
        }))
        .await
    }
    .await;
    if let Err(e) = reported {
        tracing::warn!(error = %e, shard_id = %shard_id, "eval batch stopped: cannot report to the coordinator");
        cancel.cancel();
    }
}
