//! A multi-turn stage's section: conversations, EvalScope's multi-turn values, the per-turn
//! table and TTFT by turn (from `multi_turn.json`).

use super::*;

/// Nothing for a stage without `multi_turn.json`.
pub(super) fn multi_turn_section(s: &StageData) -> String {
    let Some(m) = &s.multi_turn else {
        return String::new();
    };
    let sum = &m.summary;
    let mut out = String::from("<div class=\"multi-turn\"><h4>Multi-turn conversations</h4>");
    out.push_str(&cards(&[
        ("Conversations", m.conversations.to_string()),
        (labels::AVG_TURNS, opt_num(sum.avg_turns)),
        (labels::KV_CACHE_HIT_RATE, opt_num(sum.cache_hit_rate_pct)),
        (
            labels::AVG_FIRST_TURN_TTFT,
            opt_num(sum.avg_first_turn_ttft_ms),
        ),
        (
            labels::AVG_SUBSEQUENT_TURN_TTFT,
            opt_num(sum.avg_subsequent_turn_ttft_ms),
        ),
    ]));
    let header = [
        "Turn",
        "Requests",
        "Success",
        "Avg TTFT (ms)",
        "Avg Latency (s)",
        "Avg Input Tokens",
        "Avg Cached Tokens",
        "Avg Output Tokens",
        labels::KV_CACHE_HIT_RATE,
    ];
    let rows: Vec<Vec<String>> = m
        .turns
        .iter()
        .map(|t| {
            vec![
                t.turn.to_string(),
                t.requests.to_string(),
                t.success.to_string(),
                opt_num(t.avg_ttft_ms),
                opt_num(t.avg_latency_s),
                opt_num(t.avg_input_tokens),
                opt_num(t.avg_cached_tokens),
                opt_num(t.avg_output_tokens),
                opt_num(t.cache_hit_rate_pct),
            ]
        })
        .collect();
    out.push_str(&table("multi-turn", &header, &rows));
    let turns: Vec<String> = m.turns.iter().map(|t| t.turn.to_string()).collect();
    let value = |v: Option<f64>| v.unwrap_or(f64::NAN);
    out.push_str("<div class=\"charts\">");
    out.push_str(&bar_chart(
        &Axes::new("TTFT by turn", "turn", "ms"),
        &turns,
        &[(
            "Avg TTFT (ms)".to_string(),
            m.turns.iter().map(|t| value(t.avg_ttft_ms)).collect(),
        )],
    ));
    out.push_str(&bar_chart(
        &Axes::new("KV cache hit rate by turn", "turn", "%"),
        &turns,
        &[(
            labels::KV_CACHE_HIT_RATE.to_string(),
            m.turns
                .iter()
                .map(|t| value(t.cache_hit_rate_pct))
                .collect(),
        )],
    ));
    out.push_str("</div></div>");
    out
}
