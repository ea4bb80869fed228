//! EvalScope 1.14's eval performance summary (`PerfCollector.get_summary`): per model × dataset,
//! latency / TTFT / TPOT / token statistics over the requests that produced a prediction, as
//! `pandas.Series.describe` computes them (numpy's pairwise sum, two-pass variance with
//! ddof = 1, linear-interpolation percentiles 25/50/75/90/99), rounded to 6 decimals, NaN as
//! null; throughput from the means. It lands in the report JSON under `perf_metrics`, and
//! [`perf_row`] renders EvalScope's perf table row (`gen_perf_table`).

use serde::{Deserialize, Serialize};

use super::task::Prediction;

/// One request's numbers (EvalScope's `PerformanceMetrics`), seconds and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RequestPerf {
    /// End-to-end latency, seconds.
    pub latency: f64,
    /// Time to the first chunk carrying text, seconds (streamed requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft: Option<f64>,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

impl RequestPerf {
    /// A prediction's numbers.
    pub fn of(p: &Prediction) -> Self {
        Self {
            latency: p.latency_us as f64 / 1e6,
            ttft: p.ttft_us.map(|t| t as f64 / 1e6),
            input_tokens: u64::from(p.prompt_tokens),
            output_tokens: u64::from(p.completion_tokens),
        }
    }

    /// Time per output token after the first (EvalScope's `calc_tpot`): none without a TTFT,
    /// with at most one output token, or when the decode time is negative.
    pub fn tpot(&self) -> Option<f64> {
        let ttft = self.ttft?;
        if self.output_tokens <= 1 {
            return None;
        }
        let decode = self.latency - ttft;
        (decode >= 0.0).then(|| decode / (self.output_tokens - 1) as f64)
    }
}

/// `describe()` of one metric: mean, std, min, percentiles, max (null where pandas gives NaN).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub min: Option<f64>,
    #[serde(rename = "25%")]
    pub p25: Option<f64>,
    #[serde(rename = "50%")]
    pub p50: Option<f64>,
    #[serde(rename = "75%")]
    pub p75: Option<f64>,
    #[serde(rename = "90%")]
    pub p90: Option<f64>,
    #[serde(rename = "99%")]
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// Output tokens and requests per second of one request on average.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Throughput {
    /// mean(output tokens) / mean(latency), 2 decimals.
    pub avg_output_tps: f64,
    /// 1 / mean(latency), 4 decimals.
    pub avg_req_ps: f64,
}

/// Token statistics and totals.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: Stats,
    pub output_tokens: Stats,
    pub total_tokens: Stats,
    pub total_input_tokens: u64,
    pub total_output_tokens: u64,
    pub total_tokens_count: u64,
}

/// EvalScope's `PerfSummary` (its `to_dict` shape: `ttft` / `tpot` only when measured).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalPerfSummary {
    /// Requests summarized.
    pub n_samples: u64,
    /// Latency, seconds.
    pub latency: Stats,
    pub throughput: Throughput,
    pub usage: Usage,
    /// TTFT, seconds (streamed requests only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttft: Option<Stats>,
    /// TPOT, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tpot: Option<Stats>,
}

/// How many requests carried metrics among those made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Coverage {
    pub requests_with_metrics: u64,
    pub total_requests: u64,
}

/// A report's `perf_metrics` (EvalScope's `get_perf_dict()` plus `coverage`; its display
/// `metric_semantics` are not written).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PerfMetrics {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<EvalPerfSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

/// The `perf_metrics` of a report over `predictions` (those without an error are the requests
/// with metrics; `failed` more were made and left none).
pub fn perf_metrics<'a>(
    predictions: impl IntoIterator<Item = &'a Prediction>,
    failed: u64,
) -> PerfMetrics {
    let samples: Vec<RequestPerf> = predictions
        .into_iter()
        .filter(|p| p.error.is_none())
        .map(RequestPerf::of)
        .collect();
    let n = samples.len() as u64;
    PerfMetrics {
        summary: summarize(&samples),
        coverage: Some(Coverage {
            requests_with_metrics: n,
            total_requests: n + failed,
        }),
    }
}

/// EvalScope's `PerfCollector.get_summary`; none without requests.
pub fn summarize(samples: &[RequestPerf]) -> Option<EvalPerfSummary> {
    if samples.is_empty() {
        return None;
    }
    let latency: Vec<f64> = samples.iter().map(|s| s.latency).collect();
    let input: Vec<f64> = samples.iter().map(|s| s.input_tokens as f64).collect();
    let output: Vec<f64> = samples.iter().map(|s| s.output_tokens as f64).collect();
    let total: Vec<f64> = input.iter().zip(&output).map(|(i, o)| i + o).collect();
    let ttft: Vec<f64> = samples.iter().filter_map(|s| s.ttft).collect();
    let tpot: Vec<f64> = samples.iter().filter_map(RequestPerf::tpot).collect();
    let avg_latency = mean(&latency);
    let avg_output = mean(&output);
    let (tps, rps) = if avg_latency > 0.0 {
        (
            round(avg_output / avg_latency, 2),
            round(1.0 / avg_latency, 4),
        )
    } else {
        (0.0, 0.0)
    };
    let sum = |v: &[u64]| v.iter().copied().fold(0u64, u64::saturating_add);
    let ins: Vec<u64> = samples.iter().map(|s| s.input_tokens).collect();
    let outs: Vec<u64> = samples.iter().map(|s| s.output_tokens).collect();
    Some(EvalPerfSummary {
        n_samples: samples.len() as u64,
        latency: describe(&latency),
        throughput: Throughput {
            avg_output_tps: tps,
            avg_req_ps: rps,
        },
        usage: Usage {
            input_tokens: describe(&input),
            output_tokens: describe(&output),
            total_tokens: describe(&total),
            total_input_tokens: sum(&ins),
            total_output_tokens: sum(&outs),
            total_tokens_count: sum(&ins).saturating_add(sum(&outs)),
        },
        ttft: (!ttft.is_empty()).then(|| describe(&ttft)),
        tpot: (!tpot.is_empty()).then(|| describe(&tpot)),
    })
}

/// `Series.describe(percentiles=[.25, .5, .75, .9, .99])`, each value rounded to 6 decimals.
pub fn describe(values: &[f64]) -> Stats {
    let r = |v: f64| (!v.is_nan()).then(|| round(v, 6));
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| r(quantile(&sorted, p));
    Stats {
        mean: r(mean(values)),
        std: r(std(values)),
        min: r(sorted.first().copied().unwrap_or(f64::NAN)),
        p25: q(0.25),
        p50: q(0.5),
        p75: q(0.75),
        p90: q(0.9),
        p99: q(0.99),
        max: r(sorted.last().copied().unwrap_or(f64::NAN)),
    }
}

/// numpy's `add.reduce` of float64: pairwise, 8 accumulators below 128 values.
fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |acc, x| acc + x)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        let mut i = 8;
        while i < whole {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let half = n / 2;
        let half = half - half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

/// pandas' `nanmean` (NaN when empty).
fn mean(a: &[f64]) -> f64 {
    if a.is_empty() {
        return f64::NAN;
    }
    pairwise_sum(a) / a.len() as f64
}

/// pandas' `nanstd` with ddof = 1: two passes, NaN below 2 values.
fn std(a: &[f64]) -> f64 {
    if a.len() < 2 {
        return f64::NAN;
    }
    let avg = pairwise_sum(a) / a.len() as f64;
    let squares: Vec<f64> = a.iter().map(|x| (avg - x) * (avg - x)).collect();
    (pairwise_sum(&squares) / (a.len() - 1) as f64).sqrt()
}

/// numpy's `quantile(method="linear")` of sorted values (NaN when empty).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * q;
    if virtual_index >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    let below = virtual_index.floor().max(0.0);
    let i = below as usize;
    let (a, b) = (sorted[i], sorted[(i + 1).min(n - 1)]);
    let gamma = virtual_index - below;
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Python's `round(v, digits)`: the nearest double to `v` correctly rounded to `digits` decimals.
pub fn round(v: f64, digits: usize) -> f64 {
    if !v.is_finite() {
        return v;
    }
    format!("{v:.digits$}").parse().unwrap_or(v)
}

/// EvalScope's perf table columns (`gen_perf_table`).
pub const PERF_COLUMNS: [&str; 9] = [
    "Model", "Dataset", "Num", "Avg Lat", "Avg TTFT", "Avg TPOT", "Avg Thpt", "Avg In", "Avg Out",
];

/// No value, as EvalScope shows it.
pub const MISSING: &str = "—";

/// One row of EvalScope's perf table: model, dataset, then the summary's averages shown as
/// EvalScope's metric semantics show them (`2.135 s`, `250 ms`, `68.4 ms`, `5.25 tok/s`).
pub fn perf_row(model: &str, dataset: &str, s: &EvalPerfSummary) -> Vec<String> {
    let mean = |st: Option<&Stats>| st.and_then(|st| st.mean);
    vec![
        model.to_owned(),
        dataset.to_owned(),
        display(Some(s.n_samples as f64), 0, 1.0, ""),
        display(s.latency.mean, 3, 1.0, "s"),
        display(mean(s.ttft.as_ref()), 1, 1000.0, "ms"),
        display(mean(s.tpot.as_ref()), 1, 1000.0, "ms"),
        display(Some(s.throughput.avg_output_tps), 2, 1.0, "tok/s"),
        display(s.usage.input_tokens.mean, 0, 1.0, ""),
        display(s.usage.output_tokens.mean, 0, 1.0, ""),
    ]
}

/// EvalScope's `format_metric_value`: `value × multiplier` from its shortest decimal form,
/// rounded to `precision` decimals (ties toward +∞), trailing zeros dropped, then the unit.
pub fn display(value: Option<f64>, precision: usize, multiplier: f64, unit: &str) -> String {
    let Some(v) = value.map(|v| v * multiplier).filter(|v| v.is_finite()) else {
        return MISSING.to_owned();
    };
    let text = decimal_round(v, precision);
    if unit.is_empty() {
        text
    } else {
        format!("{text} {unit}")
    }
}

/// `v`'s shortest decimal form rounded to `precision` decimals, ties toward +∞, normalized.
fn decimal_round(v: f64, precision: usize) -> String {
    let shortest = format!("{}", v.abs());
    let (int, frac) = shortest.split_once('.').unwrap_or((&shortest, ""));
    let mut digits: Vec<u8> = int.bytes().chain(frac.bytes().take(precision)).collect();
    digits.extend(std::iter::repeat_n(
        b'0',
        precision.saturating_sub(frac.len()),
    ));
    let rest = frac.as_bytes().get(precision..).unwrap_or(&[]);
    let first = rest.first().copied().unwrap_or(b'0');
    let beyond = rest.iter().skip(1).any(|d| *d != b'0');
    // a tie rounds a positive value up and a negative one toward zero
    let up = first > b'5' || (first == b'5' && (beyond || v > 0.0));
    if up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let split = digits.len() - precision;
    let int_part = String::from_utf8_lossy(&digits[..split]);
    let int_part = int_part.trim_start_matches('0');
    let frac_part = String::from_utf8_lossy(&digits[split..]);
    let frac_part = frac_part.trim_end_matches('0');
    if int_part.is_empty() && frac_part.is_empty() {
        return "0".to_owned();
    }
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let sign = if v < 0.0 { "-" } else { "" };
    if frac_part.is_empty() {
        format!("{sign}{int_part}")
    } else {
        format!("{sign}{int_part}.{frac_part}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_as_evalscope_shows_them() {
        assert_eq!(display(Some(2.0), 3, 1.0, "s"), "2 s");
        assert_eq!(display(Some(1.234567), 3, 1.0, "s"), "1.235 s");
        assert_eq!(display(Some(0.25), 1, 1000.0, "ms"), "250 ms");
        assert_eq!(display(Some(0.068421), 1, 1000.0, "ms"), "68.4 ms");
        assert_eq!(display(Some(10.5), 0, 1.0, ""), "11");
        assert_eq!(display(Some(1.005), 2, 1.0, ""), "1.01");
        assert_eq!(display(Some(-2.5), 0, 1.0, ""), "-2");
        assert_eq!(display(Some(9.9996), 3, 1.0, ""), "10");
        assert_eq!(display(Some(0.0004), 3, 1.0, ""), "0");
        assert_eq!(display(None, 3, 1.0, "s"), MISSING);
        assert_eq!(display(Some(f64::NAN), 3, 1.0, "s"), MISSING);
    }

    #[test]
    fn percentiles_interpolate_linearly_and_std_needs_two_values() {
        let s = describe(&[1.0, 4.0]);
        assert_eq!(
            (s.p90, s.p99, s.std),
            (Some(3.7), Some(3.97), Some(2.12132))
        );
        let one = describe(&[3.0]);
        assert_eq!((one.std, one.p25, one.max), (None, Some(3.0), Some(3.0)));
    }

    #[test]
    fn tpot_needs_a_ttft_and_two_tokens() {
        let r = |ttft, out| RequestPerf {
            latency: 1.0,
            ttft,
            input_tokens: 1,
            output_tokens: out,
        };
        assert_eq!(r(Some(0.2), 5).tpot(), Some(0.8 / 4.0));
        assert_eq!(r(Some(0.2), 1).tpot(), None);
        assert_eq!(r(None, 5).tpot(), None);
        assert_eq!(r(Some(1.5), 5).tpot(), None);
        assert!(summarize(&[]).is_none());
    }
}
