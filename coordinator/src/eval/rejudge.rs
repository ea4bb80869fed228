//! `--rescore` with a judge: the predictions whose strategy needs a verdict they do not carry
//! (a run judged by rule, or `--rejudge`) are put to the judge from the coordinator — a rescore
//! has no agents — with the agents' own judge client (`swarm_agent::session::EvalJudge`: the same
//! prompt, retries and reading), `width` at a time, then combined with their rule scores.

use std::collections::HashMap;

use futures::StreamExt;
use swarm_eval::judge::JudgeSpec;
use swarm_eval::judge::combine::combine;
use swarm_eval::task::Prediction;
use swarm_eval::{Benchmark, Sample, Score};
use tokio_util::sync::CancellationToken;

/// A prediction (by index) waiting for a verdict, with its rule score.
pub type Pending = (usize, (String, Score));

/// Asks `judge` about every `pending` prediction of `preds` and sets their scores; fails when
/// cancelled (nothing half-judged is kept as a score).
pub async fn ask(
    preds: &mut [Prediction],
    pending: Vec<Pending>,
    (bench, judge): (&dyn Benchmark, &JudgeSpec),
    by_id: &HashMap<&str, &Sample>,
    width: usize,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let client = swarm_agent::session::EvalJudge::new(judge, width).map_err(anyhow::Error::msg)?;
    let kind = bench.judge_kind();
    let asked: Vec<(usize, Option<swarm_eval::judge::JudgeReview>)> =
        futures::stream::iter(pending.iter().filter_map(|(i, (extracted, _))| {
            let p = preds.get(*i)?;
            let sample = *by_id.get(p.sample_id.as_str())?;
            Some((*i, sample, p.completion.clone(), extracted.clone()))
        }))
        .map(|(i, sample, completion, filtered)| {
            let client = &client;
            async move {
                let review = client
                    .review(kind, sample, (&completion, &filtered), cancel)
                    .await;
                (i, review)
            }
        })
        .buffer_unordered(width.max(1))
        .collect()
        .await;
    let reviews: HashMap<usize, _> = asked.into_iter().collect();
    for (i, (extracted, rule)) in pending {
        let Some(review) = reviews.get(&i).cloned().flatten() else {
            anyhow::bail!("cancelled while the judge was being asked");
        };
        let (score, judgement) =
            combine(judge.strategy, bench.scoring_policy(), rule, Some(&review))
                .map_err(|_| anyhow::anyhow!("a judge verdict was asked and not kept"))?;
        if let Some(p) = preds.get_mut(i) {
            p.extracted = extracted;
            p.score = score;
            p.judge = judgement;
        }
    }
    Ok(())
}
