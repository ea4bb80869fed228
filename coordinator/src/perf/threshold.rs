//! Thresholds (k6's idea): `p99_ttft<=500ms`, `error_rate<0.01`, `goodput>=5`, checked against
//! every stage's summary after it runs; a failed one fails the command with its own exit status
//! (99, as k6).
//!
//! A threshold written with `:abort` at the end (`p99_ttft<=500ms:abort`, k6's abortOnFail) also
//! stops the sweep when a stage fails it: later stages are not run.
//!
//! Metrics: `avg_`, `p50_`, `p90_`, `p95_`, `p99_`, `p999_`, `min_`, `max_` of `ttft`, `ttfo`,
//! `itl`, `tpot`, `latency` (milliseconds; a value may say `ms` or `s`), and `rps`,
//! `output_tps`, `goodput` (per second) and `error_rate` (0..1). A metric without data fails.

use serde::Serialize;
use swarm_common::metrics::summary::{Dist, RichSummary};

/// How a metric is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One threshold, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// As written.
    pub text: String,
    metric: String,
    op: Op,
    /// The bound, in the metric's unit (ms for times).
    bound: f64,
    /// A stage that fails it ends the sweep (`:abort`).
    pub abort_on_fail: bool,
}

/// A threshold that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold {text:?}: {why}")]
pub struct ThresholdError {
    /// As written.
    pub text: String,
    /// What is wrong.
    pub why: String,
}

const TIMES: [&str; 5] = ["ttft", "ttfo", "itl", "tpot", "latency"];
const STATS: [&str; 8] = ["avg", "min", "max", "p50", "p90", "p95", "p99", "p999"];
const RATES: [&str; 4] = ["rps", "output_tps", "goodput", "error_rate"];

impl Threshold {
    /// Parses `METRIC OP VALUE[ms|s][:abort]`.
    pub fn parse(written: &str) -> Result<Self, ThresholdError> {
        let bad = |why: &str| ThresholdError {
            text: written.to_string(),
            why: why.to_string(),
        };
        let (text, abort_on_fail) = match written.trim().strip_suffix(":abort") {
            Some(t) => (t, true),
            None => (written, false),
        };
        let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (at, op, len) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|o| {
                s.find(o).map(|i| {
                    let op = match *o {
                        "<=" => Op::Le,
                        ">=" => Op::Ge,
                        "<" => Op::Lt,
                        _ => Op::Gt,
                    };
                    (i, op, o.len())
                })
            })
            .ok_or_else(|| bad("no comparison (<, <=, >, >=)"))?;
        let metric = s[..at].to_ascii_lowercase();
        let value = &s[at + len..];
        let is_time = match metric.split_once('_') {
            Some((stat, m)) if STATS.contains(&stat) && TIMES.contains(&m) => true,
            _ if RATES.contains(&metric.as_str()) => false,
            _ => {
                return Err(bad(
                    "unknown metric (e.g. p99_ttft, avg_latency, rps, error_rate)",
                ));
            }
        };
        let (number, scale) = if let Some(v) = value.strip_suffix("ms") {
            (v, 1.0)
        } else if let Some(v) = value.strip_suffix('s') {
            (v, 1000.0)
        } else {
            (value, 1.0)
        };
        if !is_time && scale != 1.0 {
            return Err(bad("only times take a unit"));
        }
        let bound: f64 = number
            .parse()
            .map_err(|_| bad("the value is not a number"))?;
        if !bound.is_finite() {
            return Err(bad("the value is not a number"));
        }
        Ok(Self {
            text: text.trim().to_string(),
            metric,
            op,
            bound: bound * scale,
            abort_on_fail,
        })
    }

    /// The stage's value of the metric, in the metric's unit (None without data).
    pub fn value(&self, s: &RichSummary) -> Option<f64> {
        let stat = |d: &Dist, name: &str| match name {
            "avg" => d.mean,
            "min" => d.min,
            "max" => d.max,
            "p50" => d.p50,
            "p90" => d.p90,
            "p95" => d.p95,
            "p99" => d.p99,
            "p999" => d.p999,
            _ => None,
        };
        match self.metric.as_str() {
            "rps" => s.req_per_s,
            "output_tps" => s.output_tok_per_s,
            "goodput" => s.goodput_req_per_s,
            "error_rate" => (s.total > 0).then(|| s.failed as f64 / s.total as f64),
            m => {
                let (name, metric) = m.split_once('_')?;
                match metric {
                    "ttft" => stat(&s.ttft_ms, name),
                    "ttfo" => stat(&s.ttfo_ms, name),
                    "itl" => stat(&s.itl_ms, name),
                    "tpot" => stat(&s.tpot_ms, name),
                    // latency is kept in seconds
                    "latency" => stat(&s.latency_s, name).map(|v| v * 1000.0),
                    _ => None,
                }
            }
        }
    }

    /// Whether the stage meets it, and the value compared.
    pub fn check(&self, s: &RichSummary) -> (bool, Option<f64>) {
        let Some(v) = self.value(s) else {
            return (false, None);
        };
        let ok = match self.op {
            Op::Lt => v < self.bound,
            Op::Le => v <= self.bound,
            Op::Gt => v > self.bound,
            Op::Ge => v >= self.bound,
        };
        (ok, Some(v))
    }
}

pub use swarm_store::threshold::Checked;

/// Checks every threshold against a stage's summary.
pub fn check_all(thresholds: &[Threshold], s: &RichSummary) -> Vec<Checked> {
    thresholds
        .iter()
        .map(|t| {
            let (pass, value) = t.check(s);
            Checked {
                threshold: t.text.clone(),
                value,
                pass,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_with_units() {
        let t = Threshold::parse("p99_ttft <= 0.5s").expect("parses");
        assert_eq!(t.bound, 500.0);
        assert_eq!(
            Threshold::parse("avg_latency<250ms").expect("p").bound,
            250.0
        );
        assert_eq!(Threshold::parse("error_rate<0.01").expect("p").op, Op::Lt);
        assert!(Threshold::parse("p98_ttft<1").is_err());
        assert!(Threshold::parse("rps>10s").is_err());
        assert!(Threshold::parse("p99_ttft").is_err());
        assert!(Threshold::parse("p99_ttft<=fast").is_err());
    }

    #[test]
    fn abort_is_a_suffix() {
        let t = Threshold::parse("p99_ttft <= 500ms:abort").expect("parses");
        assert!(t.abort_on_fail);
        assert_eq!(t.text, "p99_ttft <= 500ms");
        assert!(
            !Threshold::parse("p99_ttft<=500ms")
                .expect("parses")
                .abort_on_fail
        );
        assert!(Threshold::parse("p99_ttft<=500ms:stop").is_err());
    }
}
