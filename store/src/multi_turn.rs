//! A multi-turn stage's `multi_turn.json`: EvalScope's four multi-turn summary values and a
//! per-turn table, computed from the stage's `requests.sqlite` (each record carries its
//! conversation and turn).
//!
//! EvalScope (1.14, `MetricsAccumulator`) counts over successful requests: `Avg Turns/Request`
//! is the mean of the turn numbers (1 for a first turn), `KV Cache Hit Rate (%)` the cached
//! prompt tokens over the prompt tokens of the turns with any (×100), `Avg First-Turn TTFT (ms)`
//! and `Avg Subsequent-Turn TTFT (ms)` the mean time to first token of first and of later turns.
//! Values are rounded like its summary (4 decimals; the TTFTs 2); one with no data is null.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// EvalScope's multi-turn keys of `benchmark_summary.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MultiTurnSummary {
    /// Mean turn number (1-based) of the successful requests.
    #[serde(rename = "Avg Turns/Request")]
    pub avg_turns: Option<f64>,
    /// Cached prompt tokens over prompt tokens, percent.
    #[serde(rename = "KV Cache Hit Rate (%)")]
    pub cache_hit_rate_pct: Option<f64>,
    /// Mean TTFT of first turns, ms.
    #[serde(rename = "Avg First-Turn TTFT (ms)")]
    pub avg_first_turn_ttft_ms: Option<f64>,
    /// Mean TTFT of later turns, ms.
    #[serde(rename = "Avg Subsequent-Turn TTFT (ms)")]
    pub avg_subsequent_turn_ttft_ms: Option<f64>,
}

/// One turn index's requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnRow {
    /// The turn number, 1 for a conversation's first.
    pub turn: u32,
    /// Requests sent as this turn.
    pub requests: u64,
    /// Of those, the successful ones (the rest of the row is over them).
    pub success: u64,
    /// Mean time to first token, ms (2 decimals).
    pub avg_ttft_ms: Option<f64>,
    /// Mean latency, s (4 decimals).
    pub avg_latency_s: Option<f64>,
    /// Mean prompt tokens.
    pub avg_input_tokens: Option<f64>,
    /// Mean cached prompt tokens.
    pub avg_cached_tokens: Option<f64>,
    /// Mean completion tokens.
    pub avg_output_tokens: Option<f64>,
    /// Cached over prompt tokens of the turn, percent (4 decimals).
    pub cache_hit_rate_pct: Option<f64>,
    /// Total cached prompt tokens (exact).
    pub cached_tokens: u64,
    /// Total prompt tokens (exact).
    pub prompt_tokens: u64,
}

/// `multi_turn.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTurnReport {
    /// Conversations begun (distinct (shard, conversation) among the records).
    pub conversations: u64,
    /// EvalScope's four values.
    pub summary: MultiTurnSummary,
    /// Per turn number, increasing.
    pub turns: Vec<TurnRow>,
}

/// Sums over one turn index, as SQL gives them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TurnSums {
    /// 0-based turn index.
    pub turn: u32,
    pub requests: u64,
    pub success: u64,
    pub sum_ttft_us: u64,
    pub n_ttft: u64,
    pub sum_latency_us: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Cached tokens of the successes with prompt tokens.
    pub cached_tokens: u64,
    /// Prompt tokens of the successes with prompt tokens (the hit rate's denominator).
    pub cache_prompt_tokens: u64,
}

/// Python's `round`, as EvalScope rounds these values.
fn round(x: f64, digits: usize) -> f64 {
    swarm_common::pyround::round(x, digits)
}

fn ratio(num: f64, den: u64, digits: usize) -> Option<f64> {
    (den > 0).then(|| round(num / den as f64, digits))
}

/// The report of `turns` (any order) and `conversations`.
pub fn report(conversations: u64, mut turns: Vec<TurnSums>) -> MultiTurnReport {
    turns.sort_by_key(|t| t.turn);
    let success: u64 = turns.iter().map(|t| t.success).sum();
    let turn_numbers: u64 = turns
        .iter()
        .map(|t| (u64::from(t.turn) + 1) * t.success)
        .sum();
    let cached: u64 = turns.iter().map(|t| t.cached_tokens).sum();
    let cache_prompt: u64 = turns.iter().map(|t| t.cache_prompt_tokens).sum();
    let (first, later): (Vec<_>, Vec<_>) = turns.iter().partition(|t| t.turn == 0);
    let ttft_ms = |ts: &[&TurnSums]| {
        let n: u64 = ts.iter().map(|t| t.n_ttft).sum();
        let sum: u64 = ts.iter().map(|t| t.sum_ttft_us).sum();
        ratio(sum as f64 / 1000.0, n, 2)
    };
    let summary = MultiTurnSummary {
        avg_turns: ratio(turn_numbers as f64, success, 4),
        cache_hit_rate_pct: ratio(cached as f64 * 100.0, cache_prompt, 4),
        avg_first_turn_ttft_ms: ttft_ms(&first),
        avg_subsequent_turn_ttft_ms: ttft_ms(&later),
    };
    let rows = turns
        .iter()
        .map(|t| TurnRow {
            turn: t.turn.saturating_add(1),
            requests: t.requests,
            success: t.success,
            avg_ttft_ms: ratio(t.sum_ttft_us as f64 / 1000.0, t.n_ttft, 2),
            avg_latency_s: ratio(t.sum_latency_us as f64 / 1e6, t.success, 4),
            avg_input_tokens: ratio(t.prompt_tokens as f64, t.success, 4),
            avg_cached_tokens: ratio(t.cached_tokens as f64, t.success, 4),
            avg_output_tokens: ratio(t.completion_tokens as f64, t.success, 4),
            cache_hit_rate_pct: ratio(t.cached_tokens as f64 * 100.0, t.cache_prompt_tokens, 4),
            cached_tokens: t.cached_tokens,
            prompt_tokens: t.prompt_tokens,
        })
        .collect();
    MultiTurnReport {
        conversations,
        summary,
        turns: rows,
    }
}

/// The report of the stage whose records are `sqlite` (`requests.sqlite`); one row per turn
/// index, so memory does not grow with the requests.
pub fn from_sqlite(sqlite: &Path) -> anyhow::Result<MultiTurnReport> {
    let what = |e: rusqlite::Error| anyhow::anyhow!("cannot read {}: {e}", sqlite.display());
    let conn =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(what)?;
    let ok = "error IS NULL";
    let cache = "error IS NULL AND prompt_tokens > 0";
    let query = format!(
        "SELECT turn, count(*), \
         total(CASE WHEN {ok} THEN 1 END), \
         total(CASE WHEN {ok} AND ttft_us IS NOT NULL THEN ttft_us END), \
         total(CASE WHEN {ok} AND ttft_us IS NOT NULL THEN 1 END), \
         total(CASE WHEN {ok} THEN latency_us END), \
         total(CASE WHEN {ok} THEN prompt_tokens END), \
         total(CASE WHEN {ok} THEN completion_tokens END), \
         total(CASE WHEN {cache} THEN cached_tokens END), \
         total(CASE WHEN {cache} THEN prompt_tokens END) \
         FROM requests WHERE turn IS NOT NULL GROUP BY turn"
    );
    let mut stmt = conn.prepare(&query).map_err(what)?;
    let rows = stmt
        .query_map([], |r| {
            let n = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, f64>(i)?.max(0.0) as u64) };
            let turn: i64 = r.get(0)?;
            let requests: i64 = r.get(1)?;
            Ok(TurnSums {
                turn: u32::try_from(turn).unwrap_or(u32::MAX),
                requests: u64::try_from(requests).unwrap_or(0),
                success: n(2)?,
                sum_ttft_us: n(3)?,
                n_ttft: n(4)?,
                sum_latency_us: n(5)?,
                prompt_tokens: n(6)?,
                completion_tokens: n(7)?,
                cached_tokens: n(8)?,
                cache_prompt_tokens: n(9)?,
            })
        })
        .map_err(what)?;
    let turns = rows.collect::<Result<Vec<_>, _>>().map_err(what)?;
    let conversations: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT DISTINCT shard, conversation FROM requests \
             WHERE conversation IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .map_err(what)?;
    Ok(report(u64::try_from(conversations).unwrap_or(0), turns))
}

/// Writes `report` as `multi_turn.json` in `stage_dir`.
pub fn write(stage_dir: &Path, report: &MultiTurnReport) -> anyhow::Result<()> {
    let path = stage_dir.join(crate::layout::MULTI_TURN_JSON);
    crate::stage_files::write_json_atomic(&path, report)
}

/// Puts `report`'s EvalScope values into `summary` and rewrites the stage's
/// `benchmark_summary.json` and `summary.json` with them (EvalScope writes them into its summary).
pub fn fill_summary(
    stage_dir: &Path,
    report: &MultiTurnReport,
    summary: &mut swarm_common::metrics::evalscope::PerfSummary,
) -> anyhow::Result<()> {
    let s = &report.summary;
    summary.avg_turns = s.avg_turns;
    summary.kv_cache_hit_rate_pct = s.cache_hit_rate_pct;
    summary.avg_first_turn_ttft_ms = s.avg_first_turn_ttft_ms;
    summary.avg_subsequent_turn_ttft_ms = s.avg_subsequent_turn_ttft_ms;
    let path = stage_dir.join(crate::layout::BENCHMARK_SUMMARY);
    crate::stage_files::write_json_atomic(&path, summary)?;
    let path = stage_dir.join(crate::stage_files::SUMMARY_JSON);
    if let Some(mut stage) = crate::read::optional::<crate::stage_files::StageSummary>(&path)? {
        stage.evalscope = summary.clone();
        crate::stage_files::write_json_atomic(&path, &stage)?;
    }
    Ok(())
}

/// The stage's `multi_turn.json`; None when it has none.
pub fn read(stage_dir: &Path) -> anyhow::Result<Option<MultiTurnReport>> {
    crate::read::optional(&stage_dir.join(crate::layout::MULTI_TURN_JSON))
}

/// A value or `–`.
fn cell(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
}

/// `report` as a terminal table: the per-turn rows, then EvalScope's values.
pub fn table(report: &MultiTurnReport) -> String {
    let head = [
        "Turn",
        "Requests",
        "Success",
        "Avg TTFT (ms)",
        "Avg Latency (s)",
        "Avg Input Tokens",
        "Avg Cached Tokens",
        "KV Cache Hit Rate (%)",
    ];
    let rows: Vec<[String; 8]> = report
        .turns
        .iter()
        .map(|t| {
            [
                t.turn.to_string(),
                t.requests.to_string(),
                t.success.to_string(),
                cell(t.avg_ttft_ms, 2),
                cell(t.avg_latency_s, 4),
                cell(t.avg_input_tokens, 1),
                cell(t.avg_cached_tokens, 1),
                cell(t.cache_hit_rate_pct, 2),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let mut out = format!("Multi-turn: {} conversations\n", report.conversations);
    out.push_str(&line(&head.map(String::from)));
    out.push('\n');
    out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 3 * (widths.len() - 1)));
    for r in &rows {
        out.push('\n');
        out.push_str(&line(r));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\nAvg Turns/Request: {} · KV Cache Hit Rate (%): {} · Avg First-Turn TTFT (ms): {} · Avg Subsequent-Turn TTFT (ms): {}",
        cell(s.avg_turns, 4),
        cell(s.cache_hit_rate_pct, 4),
        cell(s.avg_first_turn_ttft_ms, 2),
        cell(s.avg_subsequent_turn_ttft_ms, 2),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(turn: u32, success: u64, ttft_ms: u64, prompt: u64, cached: u64) -> TurnSums {
        TurnSums {
            turn,
            requests: success + 1,
            success,
            sum_ttft_us: ttft_ms * 1000 * success,
            n_ttft: success,
            sum_latency_us: 2_000_000 * success,
            prompt_tokens: prompt * success,
            completion_tokens: 10 * success,
            cached_tokens: cached * success,
            cache_prompt_tokens: prompt * success,
        }
    }

    #[test]
    fn evalscope_values_follow_its_definitions() {
        // 4 first turns (100 prompt tokens, none cached, 50 ms), 2 second turns (300 tokens, 200
        // cached, 20 ms)
        let r = report(4, vec![sums(1, 2, 20, 300, 200), sums(0, 4, 50, 100, 0)]);
        assert_eq!(r.turns[0].turn, 1, "rows in turn order, numbered from 1");
        // (4·1 + 2·2) / 6
        assert_eq!(r.summary.avg_turns, Some(1.3333));
        // 400 / (400 + 600)
        assert_eq!(r.summary.cache_hit_rate_pct, Some(40.0));
        assert_eq!(r.summary.avg_first_turn_ttft_ms, Some(50.0));
        assert_eq!(r.summary.avg_subsequent_turn_ttft_ms, Some(20.0));
        assert_eq!(r.turns[1].cache_hit_rate_pct, Some(66.6667));
        assert_eq!(r.turns[1].requests, 3);
        let text = table(&r);
        assert!(text.contains("Avg First-Turn TTFT (ms): 50.00"), "{text}");
    }

    #[test]
    fn no_successes_is_no_data_not_zero() {
        let r = report(
            1,
            vec![TurnSums {
                turn: 0,
                requests: 1,
                ..TurnSums::default()
            }],
        );
        assert_eq!(r.summary, MultiTurnSummary::default());
        assert_eq!(r.turns[0].avg_ttft_ms, None);
        assert!(table(&r).contains('–'));
    }
}
