//! Thinking-efficiency metrics of one sample and their means per subset (level).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Metric names in report order (EvalScope's 2×3 figure order).
pub const METRICS: [&str; 6] = [
    "reasoning_tokens",
    "first_correct_tokens",
    "reflection_tokens",
    "token_efficiency",
    "thought_num",
    "accuracy",
];

/// A metric's name for people: `snake_case` → `Title Case` (`reasoning_tokens` → `Reasoning
/// Tokens`).
pub fn title(metric: &str) -> String {
    metric
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A metric's mean as the tables show it: ratios (efficiency, accuracy) with 4 decimals, counts
/// with 2.
pub fn display(metric: &str, value: f64) -> String {
    if matches!(metric, "token_efficiency" | "accuracy") {
        format!("{value:.4}")
    } else {
        format!("{value:.2}")
    }
}

/// The metrics of one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleMetrics {
    /// Tokens of the reasoning (T).
    pub reasoning_tokens: usize,
    /// Tokens of the reasoning up to the first correct step (T̂).
    pub first_correct_tokens: usize,
    /// T − T̂ (0 when T̂ > T).
    pub reflection_tokens: usize,
    /// T̂ / T (0 when T is 0).
    pub token_efficiency: f64,
    /// Sub-thoughts (switch phrases).
    pub thought_num: usize,
    /// 1 when T̂ > 0, else 0 (EvalScope's think-eval accuracy).
    pub accuracy: f64,
}

impl SampleMetrics {
    /// The metrics from the token counts and the thought count.
    pub fn new(reasoning_tokens: usize, first_correct_tokens: usize, thought_num: usize) -> Self {
        let token_efficiency = if reasoning_tokens == 0 {
            0.0
        } else {
            first_correct_tokens as f64 / reasoning_tokens as f64
        };
        Self {
            reasoning_tokens,
            first_correct_tokens,
            reflection_tokens: reasoning_tokens.saturating_sub(first_correct_tokens),
            token_efficiency,
            thought_num,
            accuracy: if first_correct_tokens > 0 { 1.0 } else { 0.0 },
        }
    }

    /// The value of metric `name` (one of [`METRICS`]).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "reasoning_tokens" => self.reasoning_tokens as f64,
            "first_correct_tokens" => self.first_correct_tokens as f64,
            "reflection_tokens" => self.reflection_tokens as f64,
            "token_efficiency" => self.token_efficiency,
            "thought_num" => self.thought_num as f64,
            "accuracy" => self.accuracy,
            _ => return None,
        })
    }
}

/// Metric → level → mean, levels in the order given (EvalScope's `think_eval_results.json`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ThinkResults(pub Map<String, Value>);

impl ThinkResults {
    /// The mean of `metric` at `level`.
    pub fn get(&self, metric: &str, level: &str) -> Option<f64> {
        self.0.get(metric)?.get(level)?.as_f64()
    }

    /// The levels, in order.
    pub fn levels(&self) -> Vec<String> {
        self.0
            .values()
            .next()
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// The mean of each metric per level over `levels` (each a level name and its samples' metrics;
/// a level without samples is left out).
pub fn by_level(levels: &[(String, Vec<SampleMetrics>)]) -> ThinkResults {
    let mut out = Map::new();
    for metric in METRICS {
        let mut per_level = Map::new();
        for (level, samples) in levels {
            if samples.is_empty() {
                continue;
            }
            let sum: f64 = samples.iter().filter_map(|s| s.get(metric)).sum();
            per_level.insert(level.clone(), Value::from(sum / samples.len() as f64));
        }
        out.insert(metric.to_owned(), Value::Object(per_level));
    }
    ThinkResults(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_displayed_values() {
        assert_eq!(title("first_correct_tokens"), "First Correct Tokens");
        assert_eq!(title("thought_num"), "Thought Num");
        assert_eq!(display("accuracy", 0.5), "0.5000");
        assert_eq!(display("reasoning_tokens", 123.456), "123.46");
    }
}
