//! A stage's measurements folded into exact counters and fixed-bound histograms. Agents build
//! one per shard; the coordinator merges them; summaries are computed from the merged whole.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::{HistError, HistSpec, MetricHist};
use super::record::{RequestRecord, TokenSource};

/// The histogram bounds of every metric; part of a shard's spec so all agents agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistSettings {
    /// Durations in microseconds (TTFT, TTFO, ITL, TPOT, latency, send lag).
    pub duration_us: HistSpec,
    /// Token counts.
    pub tokens: HistSpec,
    /// Per-request throughputs in milli-tokens per second.
    pub rate_milli: HistSpec,
}

impl Default for HistSettings {
    fn default() -> Self {
        Self {
            duration_us: HistSpec::DURATION_US,
            tokens: HistSpec::TOKENS,
            rate_milli: HistSpec::RATE_MILLI,
        }
    }
}

/// The metrics a stage keeps a histogram of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Time to first token (µs), successful requests.
    Ttft,
    /// Time to first answer content after reasoning (µs).
    Ttfo,
    /// Inter-token latency (µs), every gap of every successful request.
    Itl,
    /// Time per output token (µs).
    Tpot,
    /// End-to-end latency (µs).
    Latency,
    /// Latency from the scheduled send time (µs), open loop only.
    CorrectedLatency,
    /// Actual minus scheduled send time (µs), open loop only.
    SendLag,
    /// From the request's send to its first body byte taken by the connection (µs): time spent
    /// on the client waiting for a connection or an HTTP/2 stream, kept out of TTFT's meaning.
    ClientQueue,
    /// Prompt tokens.
    InputTokens,
    /// Completion tokens.
    OutputTokens,
    /// Reasoning tokens.
    ReasoningTokens,
    /// Completion tokens / latency (milli-tok/s).
    OutputTps,
    /// (Prompt + completion tokens) / latency (milli-tok/s).
    TotalTps,
    /// (Completion tokens − 1) / (latency − TTFT) (milli-tok/s).
    DecodeTps,
}

impl Metric {
    /// Every metric, in a stable order.
    pub const ALL: [Metric; 14] = [
        Metric::Ttft,
        Metric::Ttfo,
        Metric::Itl,
        Metric::Tpot,
        Metric::Latency,
        Metric::CorrectedLatency,
        Metric::SendLag,
        Metric::ClientQueue,
        Metric::InputTokens,
        Metric::OutputTokens,
        Metric::ReasoningTokens,
        Metric::OutputTps,
        Metric::TotalTps,
        Metric::DecodeTps,
    ];

    /// The snake_case name used on the wire and in files (the serde name).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Ttft => "ttft",
            Metric::Ttfo => "ttfo",
            Metric::Itl => "itl",
            Metric::Tpot => "tpot",
            Metric::Latency => "latency",
            Metric::CorrectedLatency => "corrected_latency",
            Metric::SendLag => "send_lag",
            Metric::ClientQueue => "client_queue",
            Metric::InputTokens => "input_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::ReasoningTokens => "reasoning_tokens",
            Metric::OutputTps => "output_tps",
            Metric::TotalTps => "total_tps",
            Metric::DecodeTps => "decode_tps",
        }
    }

    /// The metric called `name` (see [`Metric::name`]), if any.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The histogram bounds this metric uses under `settings`.
    pub fn spec(self, settings: &HistSettings) -> HistSpec {
        match self {
            Metric::InputTokens | Metric::OutputTokens | Metric::ReasoningTokens => settings.tokens,
            Metric::OutputTps | Metric::TotalTps | Metric::DecodeTps => settings.rate_milli,
            _ => settings.duration_us,
        }
    }
}

/// The longest error example kept per class, in characters.
pub const MAX_ERROR_EXAMPLE_CHARS: usize = 240;

/// `detail` cut to [`MAX_ERROR_EXAMPLE_CHARS`] characters.
pub fn error_example(detail: &str) -> String {
    let mut s: String = detail.chars().take(MAX_ERROR_EXAMPLE_CHARS).collect();
    if s.len() < detail.len() {
        s.push('…');
    }
    s
}

/// Exact sums and counts; everything here merges by addition (or min/max).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests finished (success or failure).
    pub total: u64,
    /// Requests that succeeded.
    pub success: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Failures by error class name.
    pub errors: BTreeMap<String, u64>,
    /// One example message per error class (the first seen, at most
    /// [`MAX_ERROR_EXAMPLE_CHARS`] characters), so a failed stage can say why.
    #[serde(default)]
    pub error_examples: BTreeMap<String, String>,
    /// Successful requests whose tokens came from neither usage nor a tokenizer.
    pub tokens_unknown: u64,
    /// Successful requests whose tokens came from the tokenizer.
    pub tokens_from_tokenizer: u64,
    /// Sum of latency (µs) over successes.
    pub sum_latency_us: u64,
    /// Sum of TTFT (µs) over successes that had one.
    pub sum_ttft_us: u64,
    /// Successes with a TTFT.
    pub n_ttft: u64,
    /// Sum of TTFO (µs).
    pub sum_ttfo_us: u64,
    /// Successes with a TTFO.
    pub n_ttfo: u64,
    /// Sum of TPOT in nanoseconds over successes (EvalScope averages over all successes, 0 for
    /// ≤ 1 token); integer so that merging in any order gives the same sum.
    pub sum_tpot_ns: u64,
    /// Sum of all inter-token gaps (µs).
    pub sum_itl_us: u64,
    /// Number of inter-token gaps.
    pub n_itl: u64,
    /// Sum of corrected latency (µs) over successes (open loop).
    pub sum_corrected_latency_us: u64,
    /// Successes with a corrected latency.
    pub n_corrected: u64,
    /// Sum of send lag (µs) over all scheduled requests.
    pub sum_send_lag_us: u64,
    /// Requests with a schedule.
    pub n_scheduled: u64,
    /// Sum of client queueing (µs) over requests that reached the wire.
    #[serde(default)]
    pub sum_client_queue_us: u64,
    /// Requests that reached the wire.
    #[serde(default)]
    pub n_client_queue: u64,
    /// Requests checked against goodput objectives (0: none were given).
    #[serde(default)]
    pub goodput_checked: u64,
    /// Of those, the ones that met every objective.
    #[serde(default)]
    pub goodput_met: u64,
    /// `--multi-turn`: conversations begun (first turns reported, failed or not).
    #[serde(default)]
    pub conversations: u64,
    /// Prompt tokens over successes.
    pub prompt_tokens: u64,
    /// Completion tokens over successes.
    pub completion_tokens: u64,
    /// Reasoning tokens over successes.
    pub reasoning_tokens: u64,
    /// Cached prompt tokens over successes.
    pub cached_tokens: u64,
    /// First send, microseconds since the Unix epoch (min over all requests).
    pub first_send_unix_us: Option<u64>,
    /// Last completion, microseconds since the Unix epoch (max over all requests).
    pub last_done_unix_us: Option<u64>,
}

impl Counters {
    /// Adds another set of counters (saturating: hostile counters cannot overflow).
    pub fn merge(&mut self, o: &Counters) {
        self.total = self.total.saturating_add(o.total);
        self.success = self.success.saturating_add(o.success);
        self.failed = self.failed.saturating_add(o.failed);
        for (k, v) in &o.errors {
            let e = self.errors.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
        for (k, v) in &o.error_examples {
            self.error_examples
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        self.tokens_unknown = self.tokens_unknown.saturating_add(o.tokens_unknown);
        self.tokens_from_tokenizer = self
            .tokens_from_tokenizer
            .saturating_add(o.tokens_from_tokenizer);
        self.sum_latency_us = self.sum_latency_us.saturating_add(o.sum_latency_us);
        self.sum_ttft_us = self.sum_ttft_us.saturating_add(o.sum_ttft_us);
        self.n_ttft = self.n_ttft.saturating_add(o.n_ttft);
        self.sum_ttfo_us = self.sum_ttfo_us.saturating_add(o.sum_ttfo_us);
        self.n_ttfo = self.n_ttfo.saturating_add(o.n_ttfo);
        self.sum_tpot_ns = self.sum_tpot_ns.saturating_add(o.sum_tpot_ns);
        self.sum_itl_us = self.sum_itl_us.saturating_add(o.sum_itl_us);
        self.n_itl = self.n_itl.saturating_add(o.n_itl);
        self.sum_corrected_latency_us = self
            .sum_corrected_latency_us
            .saturating_add(o.sum_corrected_latency_us);
        self.n_corrected = self.n_corrected.saturating_add(o.n_corrected);
        self.sum_send_lag_us = self.sum_send_lag_us.saturating_add(o.sum_send_lag_us);
        self.n_scheduled = self.n_scheduled.saturating_add(o.n_scheduled);
        self.sum_client_queue_us = self
            .sum_client_queue_us
            .saturating_add(o.sum_client_queue_us);
        self.n_client_queue = self.n_client_queue.saturating_add(o.n_client_queue);
        self.goodput_checked = self.goodput_checked.saturating_add(o.goodput_checked);
        self.goodput_met = self.goodput_met.saturating_add(o.goodput_met);
        self.conversations = self.conversations.saturating_add(o.conversations);
        self.prompt_tokens = self.prompt_tokens.saturating_add(o.prompt_tokens);
        self.completion_tokens = self.completion_tokens.saturating_add(o.completion_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(o.reasoning_tokens);
        self.cached_tokens = self.cached_tokens.saturating_add(o.cached_tokens);
        self.first_send_unix_us = min_opt(self.first_send_unix_us, o.first_send_unix_us);
        self.last_done_unix_us = self.last_done_unix_us.max(o.last_done_unix_us);
    }
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// An interval delta as the coordinator applies it: counters plus the non-empty bins of each
/// metric's histogram.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AggregateDelta {
    /// Exact counters.
    pub counters: Counters,
    /// Per metric, its non-empty bins.
    pub hists: Vec<(Metric, super::sparse::SparseHist)>,
}

/// A stage's (or a shard's, or an interval's) measurements: exact counters plus histograms.
#[derive(Debug, Clone)]
pub struct StageAggregate {
    settings: HistSettings,
    /// Exact sums and counts.
    pub counters: Counters,
    hists: BTreeMap<Metric, MetricHist>,
}

impl StageAggregate {
    /// An empty aggregate whose histograms use `settings`.
    pub fn new(settings: HistSettings) -> Result<Self, HistError> {
        let mut hists = BTreeMap::new();
        for m in Metric::ALL {
            hists.insert(m, MetricHist::new(m.spec(&settings))?);
        }
        Ok(Self {
            settings,
            counters: Counters::default(),
            hists,
        })
    }

    /// The histogram bounds in use.
    pub fn settings(&self) -> HistSettings {
        self.settings
    }

    /// One metric's histogram.
    pub fn hist(&self, m: Metric) -> &MetricHist {
        // Every metric is inserted in `new` and never removed.
        &self.hists[&m]
    }

    fn rec(&mut self, m: Metric, v: u64) {
        if let Some(h) = self.hists.get_mut(&m) {
            h.record(v);
        }
    }

    /// Folds one request in. `epoch_unix_us` maps the record's stage-relative times to wall time.
    pub fn record(&mut self, r: &RequestRecord, epoch_unix_us: u64) {
        let c = &mut self.counters;
        c.total += 1;
        if r.turn == Some(0) {
            c.conversations += 1;
        }
        let sent = epoch_unix_us + r.sent_us;
        let done = epoch_unix_us + r.done_us();
        c.first_send_unix_us = min_opt(c.first_send_unix_us, Some(sent));
        c.last_done_unix_us = c.last_done_unix_us.max(Some(done));
        if let Some(lag) = r.send_lag_us() {
            c.n_scheduled += 1;
            c.sum_send_lag_us += lag;
            self.rec(Metric::SendLag, lag);
        }
        if let Some(q) = r.queue_us {
            let c = &mut self.counters;
            c.n_client_queue += 1;
            c.sum_client_queue_us += q;
            self.rec(Metric::ClientQueue, q);
        }
        let c = &mut self.counters;
        if let Some(class) = r.error {
            c.failed += 1;
            *c.errors.entry(class.as_str().to_string()).or_default() += 1;
            if !c.error_examples.contains_key(class.as_str()) {
                let example = match (&r.error_detail, r.status) {
                    (Some(d), 0) => error_example(d),
                    (Some(d), status) => error_example(&format!("HTTP {status}: {d}")),
                    (None, 0) => class.as_str().to_string(),
                    (None, status) => format!("HTTP {status}"),
                };
                c.error_examples.insert(class.as_str().to_string(), example);
            }
            return;
        }
        c.success += 1;
        c.sum_latency_us += r.latency_us;
        if let Some(t) = r.ttft_us {
            c.sum_ttft_us += t;
            c.n_ttft += 1;
        }
        if let Some(t) = r.ttfo_us {
            c.sum_ttfo_us += t;
            c.n_ttfo += 1;
        }
        let tpot = r.tpot_us();
        c.sum_tpot_ns += (tpot * 1000.0).round() as u64;
        let mut itl_sum = 0;
        let mut itl_n = 0;
        for g in r.itl_us() {
            itl_sum += g;
            itl_n += 1;
        }
        c.sum_itl_us += itl_sum;
        c.n_itl += itl_n;
        match r.token_source {
            TokenSource::Usage => {}
            TokenSource::Tokenizer => c.tokens_from_tokenizer += 1,
            TokenSource::Unknown => c.tokens_unknown += 1,
        }
        c.prompt_tokens += u64::from(r.prompt_tokens);
        c.completion_tokens += u64::from(r.completion_tokens);
        c.reasoning_tokens += u64::from(r.reasoning_tokens);
        c.cached_tokens += u64::from(r.cached_tokens);
        let corrected = r.corrected_latency_us();
        if let Some(cl) = corrected {
            c.sum_corrected_latency_us += cl;
            c.n_corrected += 1;
        }

        if let Some(t) = r.ttft_us {
            self.rec(Metric::Ttft, t);
        }
        if let Some(t) = r.ttfo_us {
            self.rec(Metric::Ttfo, t);
        }
        if let Some(h) = self.hists.get_mut(&Metric::Itl) {
            for g in r.itl_us() {
                h.record(g);
            }
        }
        self.rec(Metric::Tpot, tpot.round() as u64);
        self.rec(Metric::Latency, r.latency_us);
        if let Some(cl) = corrected {
            self.rec(Metric::CorrectedLatency, cl);
        }
        self.rec(Metric::InputTokens, u64::from(r.prompt_tokens));
        self.rec(Metric::OutputTokens, u64::from(r.completion_tokens));
        self.rec(Metric::ReasoningTokens, u64::from(r.reasoning_tokens));
        self.rec(Metric::OutputTps, (r.output_tps() * 1000.0).round() as u64);
        self.rec(Metric::TotalTps, (r.total_tps() * 1000.0).round() as u64);
        self.rec(Metric::DecodeTps, (r.decode_tps() * 1000.0).round() as u64);
    }

    /// Adds another aggregate built with the same settings.
    pub fn merge(&mut self, other: &StageAggregate) -> Result<(), HistError> {
        for (m, h) in &other.hists {
            match self.hists.get_mut(m) {
                Some(mine) => mine.merge(h)?,
                None => {
                    self.hists.insert(*m, h.clone());
                }
            }
        }
        self.counters.merge(&other.counters);
        Ok(())
    }

    /// Applies a sparse delta (counters and non-empty bins); O(bins), not O(histogram size).
    pub fn apply(&mut self, delta: &AggregateDelta) {
        self.counters.merge(&delta.counters);
        for (m, bins) in &delta.hists {
            if let Some(h) = self.hists.get_mut(m) {
                h.add_sparse(bins);
            }
        }
    }

    /// Replaces one metric's histogram (used when decoding a snapshot from the wire).
    pub fn set_hist(&mut self, m: Metric, h: MetricHist) -> Result<(), HistError> {
        let want = m.spec(&self.settings);
        if h.spec() != want {
            return Err(HistError::SpecMismatch {
                left: want,
                right: h.spec(),
            });
        }
        self.hists.insert(m, h);
        Ok(())
    }

    /// Empties counters and histograms (after an interval delta was sent).
    pub fn reset(&mut self) {
        self.counters = Counters::default();
        for h in self.hists.values_mut() {
            h.reset();
        }
    }

    /// Throughput window in seconds: first send → last completion (0 when nothing ran).
    pub fn duration_s(&self) -> f64 {
        match (
            self.counters.first_send_unix_us,
            self.counters.last_done_unix_us,
        ) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e6,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::record::ErrorClass;

    fn ok(sent: u64, ttft: u64, latency: u64, tokens: u32) -> RequestRecord {
        let step = (latency - ttft) / u64::from(tokens.max(2) - 1);
        RequestRecord {
            sent_us: sent,
            ttft_us: Some(ttft),
            latency_us: latency,
            chunk_us: (0..u64::from(tokens)).map(|i| ttft + i * step).collect(),
            prompt_tokens: 10,
            completion_tokens: tokens,
            token_source: TokenSource::Usage,
            status: 200,
            ..Default::default()
        }
    }

    #[test]
    fn counters_and_window() {
        let mut a = StageAggregate::new(HistSettings::default()).expect("valid");
        a.record(&ok(0, 10_000, 110_000, 11), 1_000_000);
        a.record(&ok(50_000, 20_000, 220_000, 21), 1_000_000);
        a.record(
            &RequestRecord {
                sent_us: 60_000,
                latency_us: 5_000,
                error: Some(ErrorClass::Http5xx),
                status: 500,
                ..Default::default()
            },
            1_000_000,
        );
        let c = &a.counters;
        assert_eq!((c.total, c.success, c.failed), (3, 2, 1));
        assert_eq!(c.errors.get("http_5xx"), Some(&1));
        assert_eq!(c.completion_tokens, 32);
        assert_eq!(c.n_itl, 10 + 20);
        assert_eq!(c.sum_itl_us, 100_000 + 200_000);
        assert_eq!(c.sum_tpot_ns, 20_000_000);
        // window: first send at 0, last completion at 50 ms + 220 ms
        assert!((a.duration_s() - 0.27).abs() < 1e-9);
        assert_eq!(a.hist(Metric::Latency).len(), 2);
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let recs: Vec<_> = (0..200u64)
            .map(|i| {
                ok(
                    i * 1000,
                    5_000 + i * 37,
                    90_000 + i * 311,
                    2 + (i % 50) as u32,
                )
            })
            .collect();
        let mut whole = StageAggregate::new(HistSettings::default()).expect("valid");
        let mut a = whole.clone();
        let mut b = whole.clone();
        for (i, r) in recs.iter().enumerate() {
            whole.record(r, 0);
            if i % 3 == 0 {
                a.record(r, 0)
            } else {
                b.record(r, 0)
            }
        }
        a.merge(&b).expect("same settings");
        assert_eq!(a.counters, whole.counters);
        for m in Metric::ALL {
            for p in [1.0, 50.0, 99.0, 100.0] {
                assert_eq!(
                    a.hist(m).percentile(p),
                    whole.hist(m).percentile(p),
                    "{m:?} p{p}"
                );
            }
        }
    }
}
