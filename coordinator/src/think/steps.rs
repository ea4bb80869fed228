//! Cutting each sample's reasoning into steps: locally (`separator`, `keywords`), or (`llm`,
//! EvalScope's default) after the judge reformats it into paragraphs with EvalScope's reformat
//! prompt.

use futures::StreamExt;
use serde_json::{Value, json};
use swarm_eval::think::reformat::reformat_prompt;
use swarm_eval::think::{SplitStrategy, split_steps};
use tokio_util::sync::CancellationToken;

use super::judge::Judge;

/// One sample's reasoning to cut.
#[derive(Debug, Clone, Copy)]
pub struct ToSplit<'a> {
    /// Its level.
    pub level: &'a str,
    /// Its index within the level.
    pub index: &'a str,
    /// The problem (sent with the reasoning to the judge).
    pub problem: &'a str,
    /// The reasoning.
    pub think: &'a str,
}

/// The steps of every item, in order. With [`SplitStrategy::Llm`] the judge reformats each
/// (`concurrency` at a time), every prompt and reply is pushed to `log`, and a sample the judge
/// cannot reformat (after its retries) fails the whole split with the sample named.
pub async fn split_all(
    items: &[ToSplit<'_>],
    strategy: SplitStrategy,
    judge: Option<&Judge>,
    concurrency: usize,
    label: &str,
    log: &mut Vec<Value>,
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<Vec<String>>> {
    if strategy != SplitStrategy::Llm {
        return Ok(items
            .iter()
            .map(|i| split_steps(i.think, strategy))
            .collect());
    }
    let Some(judge) = judge else {
        anyhow::bail!(
            "--split llm needs a judge to reformat the reasoning: give --judge-url and --judge-model"
        );
    };
    let prompts: Vec<String> = items
        .iter()
        .map(|i| reformat_prompt(i.problem, i.think))
        .collect();
    let replies: Vec<Result<String, String>> = futures::stream::iter(prompts.iter())
        .map(|p| judge.chat(p, cancel))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::with_capacity(items.len());
    for ((item, prompt), reply) in items.iter().zip(prompts).zip(replies) {
        log.push(json!({
            "model": label,
            "level": item.level,
            "index": item.index,
            "prompt": prompt,
            "response": reply.as_deref().unwrap_or_default(),
            "error": reply.as_ref().err(),
        }));
        match reply {
            Ok(text) => out.push(split_steps(&text, SplitStrategy::Llm)),
            Err(e) => anyhow::bail!(
                "--split llm: cannot reformat the reasoning of {label}, {} sample {}: {e}",
                item.level,
                item.index
            ),
        }
    }
    Ok(out)
}
