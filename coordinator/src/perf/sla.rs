//! SLA auto-tune (EvalScope 1.14's `--sla-auto-tune`): the largest concurrency or request rate
//! that still meets a service-level objective, or the one that maximises / minimises a metric.
//!
//! This module is the pure part: the `--sla-params` criteria, EvalScope's metric names over a
//! probe's summary, and the search as a function of the probes measured so far ([`next`]), so
//! it is tested without a cluster. `sla_run` runs each probe as a stage.
//!
//! The search is EvalScope's. Constraint mode (one search per criteria group; within a group
//! every metric must pass, and a probe with any failed request fails): probe the start value;
//! while it passes double it (capped at the upper bound) until one fails; if the start fails,
//! halve it (floored at the lower bound) until one passes; then bisect between the last passing
//! and the first failing value. Optimisation mode (one group of one metric with `max` / `min`):
//! double while the metric improves, then bisect between the best value and the first one that
//! did not improve. A value is probed once; later questions about it reuse its result.

use std::collections::BTreeMap;

use serde::Serialize;
use swarm_common::metrics::summary::RichSummary;

/// The variable the search tunes (`--sla-variable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Variable {
    /// Concurrency (closed loop).
    Parallel,
    /// Arrival rate, requests per second (open loop at a fixed concurrency cap).
    Rate,
}

impl Variable {
    /// `parallel` or `rate`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::Parallel => "parallel",
            Variable::Rate => "rate",
        }
    }
}

/// EvalScope's SLA metric names: times in seconds, `rps` in requests/s, `tps` in output tokens/s.
pub const METRICS: [&str; 12] = [
    "avg_latency",
    "avg_ttft",
    "avg_tpot",
    "rps",
    "tps",
    "p99_latency",
    "p99_ttft",
    "p99_tpot",
    "p50_ttft",
    "p90_ttft",
    "p50_tpot",
    "p90_tpot",
];

/// One condition on a metric (`"<=2"`, `"<100ms"`, `"max"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Criterion {
    /// `< v`
    Lt(f64),
    /// `<= v`
    Le(f64),
    /// `> v`
    Gt(f64),
    /// `>= v`
    Ge(f64),
    /// The value of the variable where the metric is largest.
    Max,
    /// The value of the variable where the metric is smallest.
    Min,
}

impl Criterion {
    /// Whether `v` meets it (`max` / `min` always do, as EvalScope's).
    pub fn holds(self, v: f64) -> bool {
        match self {
            Criterion::Lt(b) => v < b,
            Criterion::Le(b) => v <= b,
            Criterion::Gt(b) => v > b,
            Criterion::Ge(b) => v >= b,
            Criterion::Max | Criterion::Min => true,
        }
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Criterion::Lt(b) => write!(f, "< {b}"),
            Criterion::Le(b) => write!(f, "<= {b}"),
            Criterion::Gt(b) => write!(f, "> {b}"),
            Criterion::Ge(b) => write!(f, ">= {b}"),
            Criterion::Max => write!(f, "-> max"),
            Criterion::Min => write!(f, "-> min"),
        }
    }
}

/// One metric's condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// One of [`METRICS`].
    pub metric: String,
    /// The condition.
    pub criterion: Criterion,
}

/// Conditions that must all hold (one object of `--sla-params`).
pub type Group = Vec<Rule>;

/// Describes a group as EvalScope's summary does: `p99_ttft <= 0.1, avg_tpot <= 0.05`.
pub fn describe(group: &Group) -> String {
    group
        .iter()
        .map(|r| format!("{} {}", r.metric, r.criterion))
        .collect::<Vec<_>>()
        .join(", ")
}

fn criterion(metric: &str, text: &str) -> anyhow::Result<Criterion> {
    let s: String = text
        .trim()
        .replace('≤', "<=")
        .replace(['≥', '≧'], ">=")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    match s.as_str() {
        "max" => return Ok(Criterion::Max),
        "min" => return Ok(Criterion::Min),
        _ => {}
    }
    let (op, rest) = ["<=", ">=", "<", ">"]
        .iter()
        .find_map(|op| s.strip_prefix(op).map(|r| (*op, r)))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--sla-params {metric}: {text:?} is not a condition (e.g. \"<=2\", \"<=100ms\", \">=10\", \"max\")"
            )
        })?;
    let is_time = !matches!(metric, "rps" | "tps");
    let (number, scale) = match (rest.strip_suffix("ms"), rest.strip_suffix('s')) {
        (Some(n), _) if is_time => (n, 0.001),
        (None, Some(n)) if is_time => (n, 1.0),
        _ => (rest, 1.0),
    };
    let v: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            anyhow::anyhow!("--sla-params {metric}: {text:?}: the value is not a number")
        })?;
    let v = v * scale;
    Ok(match op {
        "<=" => Criterion::Le(v),
        ">=" => Criterion::Ge(v),
        "<" => Criterion::Lt(v),
        _ => Criterion::Gt(v),
    })
}

/// Parses `--sla-params`: a JSON object or array of objects, `{"metric": "condition"}`. Times
/// are in seconds as EvalScope's (`"<=2"`), or say `ms` / `s` (`"<=100ms"`).
pub fn parse_params(text: &str) -> anyhow::Result<Vec<Group>> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("--sla-params is not valid JSON ({e}): {text}"))?;
    let records = match value {
        serde_json::Value::Array(a) => a,
        o @ serde_json::Value::Object(_) => vec![o],
        other => {
            anyhow::bail!("--sla-params must be a JSON object or array of objects, got {other}")
        }
    };
    let mut groups = Vec::new();
    for record in records {
        let serde_json::Value::Object(map) = record else {
            anyhow::bail!("--sla-params: each element must be an object, got {record}");
        };
        let mut group = Vec::new();
        for (metric, cond) in map {
            if !METRICS.contains(&metric.as_str()) {
                anyhow::bail!(
                    "--sla-params: unknown metric {metric:?}; one of {}",
                    METRICS.join(", ")
                );
            }
            let text = match &cond {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            group.push(Rule {
                criterion: criterion(&metric, &text)?,
                metric,
            });
        }
        if !group.is_empty() {
            groups.push(group);
        }
    }
    if groups.is_empty() {
        anyhow::bail!("--sla-params has no condition");
    }
    Ok(groups)
}

/// EvalScope's SLA metric values of one stage (seconds for times), from our summary.
pub fn metric_values(s: &RichSummary) -> BTreeMap<String, f64> {
    let ms = |v: Option<f64>| v.map(|x| x / 1000.0);
    let pairs = [
        ("avg_latency", s.latency_s.mean),
        ("avg_ttft", ms(s.ttft_ms.mean)),
        ("avg_tpot", ms(s.tpot_ms.mean)),
        ("rps", s.req_per_s),
        ("tps", s.output_tok_per_s),
        ("p99_latency", s.latency_s.p99),
        ("p99_ttft", ms(s.ttft_ms.p99)),
        ("p99_tpot", ms(s.tpot_ms.p99)),
        ("p50_ttft", ms(s.ttft_ms.p50)),
        ("p90_ttft", ms(s.ttft_ms.p90)),
        ("p50_tpot", ms(s.tpot_ms.p50)),
        ("p90_tpot", ms(s.tpot_ms.p90)),
    ];
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.filter(|x| x.is_finite()).map(|x| (k.to_string(), x)))
        .collect()
}

/// What one value of the variable measured (averaged over its runs).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Probe {
    /// Every request of every run succeeded (EvalScope requires 100%).
    pub all_succeeded: bool,
    /// [`metric_values`], averaged over the runs that had each.
    pub values: BTreeMap<String, f64>,
}

impl Probe {
    /// Averages runs as EvalScope's `average_results`: each metric's mean over the runs that
    /// have it; success only when every run had every request succeed.
    pub fn average(runs: &[Probe]) -> Probe {
        let mut sums: BTreeMap<String, (f64, u32)> = BTreeMap::new();
        for r in runs {
            for (k, v) in &r.values {
                let e = sums.entry(k.clone()).or_insert((0.0, 0));
                e.0 += v;
                e.1 += 1;
            }
        }
        Probe {
            all_succeeded: !runs.is_empty() && runs.iter().all(|r| r.all_succeeded),
            values: sums
                .into_iter()
                .map(|(k, (s, n))| (k, s / f64::from(n)))
                .collect(),
        }
    }

    /// Whether every rule of `group` holds (a missing metric fails).
    pub fn meets(&self, group: &Group) -> bool {
        self.all_succeeded
            && group.iter().all(|r| {
                self.values
                    .get(&r.metric)
                    .is_some_and(|v| r.criterion.holds(*v))
            })
    }
}

/// The search range and starting point.
pub use super::sla_search::{Answer, Next, Range, next, number_for, optimisation};

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn probe(pairs: &[(&str, f64)]) -> Probe {
        Probe {
            all_succeeded: true,
            values: pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn params_parse_evalscope_syntax_and_units() {
        let g = parse_params(r#"[{"p99_ttft": "<=100ms", "avg_tpot": "<0.05"}, {"tps": "max"}]"#)
            .expect("parses");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0][0].criterion, Criterion::Le(0.1));
        assert_eq!(g[0][1].criterion, Criterion::Lt(0.05));
        assert_eq!(g[1][0].criterion, Criterion::Max);
        let one = parse_params(r#"{"p99_latency": "≤ 2s", "rps": ">= 3"}"#).expect("object");
        assert_eq!(one[0][0].criterion, Criterion::Le(2.0));
        assert_eq!(one[0][1].criterion, Criterion::Ge(3.0));
        assert!(parse_params(r#"[{"p98_ttft": "<=1"}]"#).is_err());
        assert!(parse_params(r#"[{"p99_ttft": "fast"}]"#).is_err());
        assert!(parse_params(r#"[{"rps": ">=3ms"}]"#).is_err());
        assert!(parse_params("[]").is_err());
        assert!(parse_params("not json").is_err());
    }

    #[test]
    fn probe_averages_like_evalscope() {
        let a = probe(&[("rps", 2.0), ("p99_ttft", 0.1)]);
        let mut b = probe(&[("rps", 4.0)]);
        b.all_succeeded = false;
        let avg = Probe::average(&[a.clone(), b]);
        assert_eq!(avg.values["rps"], 3.0);
        assert_eq!(avg.values["p99_ttft"], 0.1);
        assert!(!avg.all_succeeded);
        assert!(Probe::average(&[a.clone(), a]).all_succeeded);
    }
}
