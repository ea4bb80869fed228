//! EvalScope's percentile rows (`benchmark_percentile.json`) and the extra rows of
//! `--percentiles`, exact from the merged histograms.

use super::*;

/// One row of EvalScope's `benchmark_percentile.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PercentileRow {
    /// `min`, `1%`, ... `max`.
    #[serde(rename = "Percentiles")]
    pub percentile: String,
    /// Time to first token.
    #[serde(rename = "TTFT (ms)")]
    pub ttft_ms: Option<f64>,
    /// Inter-token latency.
    #[serde(rename = "ITL (ms)")]
    pub itl_ms: Option<f64>,
    /// Time per output token.
    #[serde(rename = "TPOT (ms)")]
    pub tpot_ms: Option<f64>,
    /// Latency.
    #[serde(rename = "Latency (s)")]
    pub latency_s: Option<f64>,
    /// Prompt tokens.
    #[serde(rename = "Input tokens")]
    pub input_tokens: Option<f64>,
    /// Completion tokens.
    #[serde(rename = "Output tokens")]
    pub output_tokens: Option<f64>,
    /// Per-request output speed.
    #[serde(rename = "Output (tok/s)")]
    pub output_tps: Option<f64>,
    /// Per-request total speed.
    #[serde(rename = "Total (tok/s)")]
    pub total_tps: Option<f64>,
    /// Per-request decode speed.
    #[serde(rename = "Decode (tok/s)")]
    pub decode_tps: Option<f64>,
}

impl PercentileRow {
    /// The value of `m`'s column (None: no data, or not a column).
    pub fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::Ttft => self.ttft_ms,
            Metric::Itl => self.itl_ms,
            Metric::Tpot => self.tpot_ms,
            Metric::Latency => self.latency_s,
            Metric::InputTokens => self.input_tokens,
            Metric::OutputTokens => self.output_tokens,
            Metric::OutputTps => self.output_tps,
            Metric::TotalTps => self.total_tps,
            Metric::DecodeTps => self.decode_tps,
            _ => None,
        }
    }

    fn set(&mut self, m: Metric, v: Option<f64>) {
        let slot = match m {
            Metric::Ttft => &mut self.ttft_ms,
            Metric::Itl => &mut self.itl_ms,
            Metric::Tpot => &mut self.tpot_ms,
            Metric::Latency => &mut self.latency_s,
            Metric::InputTokens => &mut self.input_tokens,
            Metric::OutputTokens => &mut self.output_tokens,
            Metric::OutputTps => &mut self.output_tps,
            Metric::TotalTps => &mut self.total_tps,
            Metric::DecodeTps => &mut self.decode_tps,
            _ => return,
        };
        *slot = v;
    }

    /// A row of `label` with no data.
    fn empty(label: &str) -> Self {
        Self {
            percentile: label.to_string(),
            ttft_ms: None,
            itl_ms: None,
            tpot_ms: None,
            latency_s: None,
            input_tokens: None,
            output_tokens: None,
            output_tps: None,
            total_tps: None,
            decode_tps: None,
        }
    }
}

/// EvalScope's own `benchmark_percentile.json` as its releases write it: one list per column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PercentileColumns {
    /// The row labels.
    #[serde(rename = "Percentiles")]
    pub percentiles: Vec<String>,
    /// Time to first token.
    #[serde(rename = "TTFT (ms)", default)]
    pub ttft_ms: Vec<Option<f64>>,
    /// Inter-token latency.
    #[serde(rename = "ITL (ms)", default)]
    pub itl_ms: Vec<Option<f64>>,
    /// Time per output token.
    #[serde(rename = "TPOT (ms)", default)]
    pub tpot_ms: Vec<Option<f64>>,
    /// Latency.
    #[serde(rename = "Latency (s)", default)]
    pub latency_s: Vec<Option<f64>>,
    /// Prompt tokens.
    #[serde(rename = "Input tokens", default)]
    pub input_tokens: Vec<Option<f64>>,
    /// Completion tokens.
    #[serde(rename = "Output tokens", default)]
    pub output_tokens: Vec<Option<f64>>,
    /// Per-request output speed.
    #[serde(rename = "Output (tok/s)", default)]
    pub output_tps: Vec<Option<f64>>,
    /// Per-request total speed.
    #[serde(rename = "Total (tok/s)", default)]
    pub total_tps: Vec<Option<f64>>,
    /// Per-request decode speed.
    #[serde(rename = "Decode (tok/s)", default)]
    pub decode_tps: Vec<Option<f64>>,
}

impl PercentileColumns {
    /// The same table as rows (a column shorter than the labels has no data in the rest).
    pub fn into_rows(self) -> Vec<PercentileRow> {
        let at = |col: &[Option<f64>], i: usize| col.get(i).copied().flatten();
        self.percentiles
            .iter()
            .enumerate()
            .map(|(i, label)| PercentileRow {
                percentile: label.clone(),
                ttft_ms: at(&self.ttft_ms, i),
                itl_ms: at(&self.itl_ms, i),
                tpot_ms: at(&self.tpot_ms, i),
                latency_s: at(&self.latency_s, i),
                input_tokens: at(&self.input_tokens, i),
                output_tokens: at(&self.output_tokens, i),
                output_tps: at(&self.output_tps, i),
                total_tps: at(&self.total_tps, i),
                decode_tps: at(&self.decode_tps, i),
            })
            .collect()
    }
}

/// A `benchmark_percentile.json` in either shape: ours (rows) or EvalScope's (columns).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PercentileFile {
    /// One object per row.
    Rows(Vec<PercentileRow>),
    /// One list per column.
    Columns(Box<PercentileColumns>),
}

impl PercentileFile {
    /// The rows.
    pub fn into_rows(self) -> Vec<PercentileRow> {
        match self {
            PercentileFile::Rows(r) => r,
            PercentileFile::Columns(c) => c.into_rows(),
        }
    }
}

/// The `benchmark_percentile.json` rows, one per percentile. A column without data
/// ([`has_data`]: every column without a successful request, ITL without streaming, TTFT, TPOT
/// and decode speed without a first token) is null in every row.
pub fn percentiles(agg: &StageAggregate) -> Vec<PercentileRow> {
    PERCENTILE_ROWS
        .iter()
        .map(|(label, p)| percentile_row(agg, label, *p))
        .collect()
}

/// The row `label` of percentile `p` of every column of `agg`.
fn percentile_row(agg: &StageAggregate, label: &str, p: f64) -> PercentileRow {
    let mut row = PercentileRow::empty(label);
    for (_, m, div) in PERCENTILE_COLUMNS {
        let v = has_data(agg, m).then(|| agg.hist(m).percentile(p) as f64 / div);
        row.set(m, metric(v));
    }
    row
}

/// The most extra percentiles (`--percentiles`) a stage reports.
pub const MAX_EXTRA_PERCENTILES: usize = 20;

/// The label of an extra percentile row: `99.9%`, `50%` (the fixed rows' style).
pub fn percentile_label(p: f64) -> String {
    format!("{p}%")
}

/// Extra percentiles as asked (`--percentiles 50,90,99.9`), checked: each in (0, 100), at
/// most [`MAX_EXTRA_PERCENTILES`]; returned sorted, each once.
pub fn checked_extra_percentiles(asked: &[f64]) -> Result<Vec<f64>, String> {
    if let Some(bad) = asked
        .iter()
        .find(|p| !(p.is_finite() && **p > 0.0 && **p < 100.0))
    {
        return Err(format!(
            "percentile {bad} is not between 0 and 100 (exclusive)"
        ));
    }
    let mut out = asked.to_vec();
    out.sort_by(f64::total_cmp);
    out.dedup();
    if out.len() > MAX_EXTRA_PERCENTILES {
        return Err(format!(
            "{} percentiles asked; at most {MAX_EXTRA_PERCENTILES}",
            out.len()
        ));
    }
    Ok(out)
}

/// The rows of the extra percentiles `extra` (sorted, checked by
/// [`checked_extra_percentiles`]) that EvalScope's fixed rows ([`PERCENTILE_ROWS`]) do not
/// already hold, in its row format (labels like `99.9%`), computed from `agg`'s histograms as
/// the fixed rows are. They go after EvalScope's rows; none: EvalScope's file as it is.
pub fn extra_percentiles(agg: &StageAggregate, extra: &[f64]) -> Vec<PercentileRow> {
    extra
        .iter()
        .filter(|p| !PERCENTILE_ROWS.iter().any(|(_, q)| q == *p))
        .map(|p| percentile_row(agg, &percentile_label(*p), *p))
        .collect()
}
