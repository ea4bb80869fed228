//! Multi-turn: 1,000 concurrent conversations against llm-sim (another process, with its prefix
//! cache) through the real executor: the client's CPU per request and its peak memory while
//! every conversation's history grows turn by turn.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use swarm_common::multi_turn::MultiTurnSpec;
use swarm_common::prompt::{Prompt, PromptBody};

use super::procstat::{cpu_seconds, peak_rss_bytes};
use super::shard::{closed_shard, run_with};
use super::simproc::SimProcess;

/// `conversations` of `turns` user turns of `words` words each.
fn conversations(conversations: u64, turns: usize, words: usize) -> Vec<Prompt> {
    (0..conversations)
        .map(|c| Prompt {
            body: PromptBody::Conversation {
                turns: (0..turns)
                    .map(|t| {
                        let text: Vec<String> =
                            (0..words).map(|w| format!("c{c}t{t}w{w}")).collect();
                        vec![json!({"role": "user", "content": text.join(" ")})]
                    })
                    .collect(),
            },
            tokens: None,
        })
        .collect()
}

/// Runs `concurrency` conversations at once, `concurrency` in all, each `turns` turns of
/// `words` words answered with `tokens` tokens; prints the figures and the goal.
pub async fn multi_turn(
    concurrency: u32,
    turns: usize,
    words: usize,
    tokens: u32,
) -> anyhow::Result<()> {
    let sim = SimProcess::start(&[
        "--ttft-ms",
        "50",
        "--itl-ms",
        "10",
        "--prefix-cache-entries",
        "1000000",
    ])?;
    let n = u64::from(concurrency);
    let prompts = Arc::new(conversations(n, turns, words));
    let mut spec = closed_shard(&sim.url, concurrency, n, tokens, true);
    spec.prompts.total = n;
    spec.prompts.count = n;
    spec.multi_turn = Some(MultiTurnSpec { think_time_s: 0.0 });
    let rss0 = peak_rss_bytes();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let ran = run_with(spec, prompts, true).await?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let peak = peak_rss_bytes();
    let cached: u64 = ran.records.iter().map(|r| u64::from(r.cached_tokens)).sum();
    let prompt: u64 = ran.records.iter().map(|r| u64::from(r.prompt_tokens)).sum();
    let last = ran
        .records
        .iter()
        .filter(|r| r.turn == Some(turns.saturating_sub(1) as u32))
        .map(|r| r.prompt_tokens)
        .max()
        .unwrap_or(0);
    println!(
        "multi-turn: {} conversations at once × {turns} turns ({words} words each, {tokens}-token answers, ttft 50 ms, itl 10 ms): {} requests ({} failed) in {wall:.1} s; client CPU {cpu:.2} s = {:.1} µs/request; peak RSS {:.0} MiB (before the run {:.0} MiB); last turns up to {last} prompt tokens, KV cache hit rate {:.1}%",
        ran.outcome.requests,
        ran.n,
        ran.failed,
        cpu * 1e6 / ran.n.max(1) as f64,
        peak as f64 / 1048576.0,
        rss0 as f64 / 1048576.0,
        cached as f64 * 100.0 / prompt.max(1) as f64,
    );
    super::goal(
        &format!("{concurrency} conversations, every turn answered, peak RSS < 512 MiB"),
        ran.failed == 0 && ran.n == n * turns as u64 && peak < 512 << 20,
    );
    Ok(())
}
