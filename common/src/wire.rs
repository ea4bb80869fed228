//! A [`StageAggregate`] on the wire: the protobuf [`Snapshot`] that agents send in
//! `ShardProgress` and `ShardDone`, and back. Decoding treats its input as hostile: every
//! malformed snapshot is a [`WireError`] naming the metric, never a panic.

use swarm_proto::{Counters as ProtoCounters, Hist, Snapshot};

use crate::metrics::aggregate::{Counters, HistSettings, Metric, StageAggregate};
use crate::metrics::histogram::{HistError, HistSpec, MetricHist};

/// The cookie of an uncompressed HdrHistogram V2 encoding (what [`MetricHist::to_v2`] writes).
const V2_COOKIE: u32 = 0x1c84_9313;
/// Cookie, payload length, normalizing offset, digits (u32 each), low, high (u64), ratio (f64).
const V2_HEADER_LEN: usize = 40;
/// More values than one histogram of a real run can hold; a cap that keeps the coordinator's
/// sums of decoded counts far from overflowing.
pub const MAX_HIST_VALUES: u64 = 1 << 48;
/// Longest metric name echoed back in an error.
const MAX_NAME_IN_ERROR: usize = 64;

/// Why a snapshot could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The snapshot carries no counters.
    #[error("snapshot has no counters")]
    MissingCounters,
    /// A histogram is named after no known metric.
    #[error("unknown metric {name:?}")]
    UnknownMetric {
        /// The name received (cut to 64 characters).
        name: String,
    },
    /// The same metric appears twice in one snapshot.
    #[error("metric {metric}: appears more than once in the snapshot")]
    DuplicateMetric {
        /// The metric's name.
        metric: &'static str,
    },
    /// A histogram's bytes are not a V2 encoding with the run's bounds.
    #[error("metric {metric}: {reason}")]
    Malformed {
        /// The metric's name.
        metric: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A histogram failed to decode (bad payload, values above the spec's high bound).
    #[error("metric {metric}: {source}")]
    Hist {
        /// The metric's name.
        metric: &'static str,
        /// The decoding error.
        source: HistError,
    },
    /// The counters contradict each other.
    #[error("counters: {0}")]
    BadCounters(String),
    /// The settings handed to [`from_snapshot`] are not valid histogram bounds.
    #[error("histogram settings: {0}")]
    Settings(HistError),
}

/// Encodes `agg`: every metric's histogram as V2 bytes plus its outliers, and the counters.
pub fn to_snapshot(agg: &StageAggregate) -> Snapshot {
    let hists = Metric::ALL
        .into_iter()
        .map(|m| {
            let h = agg.hist(m);
            Hist {
                metric: m.name().to_string(),
                v2: h.to_v2(),
                high_outliers: h.high_outliers(),
                highest_outlier: h.highest_outlier(),
            }
        })
        .collect();
    Snapshot {
        hists,
        counters: Some(counters_to_proto(&agg.counters)),
    }
}

/// Decodes a snapshot whose histograms were built with `settings` (the run's). Metrics absent
/// from the snapshot stay empty.
pub fn from_snapshot(snap: &Snapshot, settings: HistSettings) -> Result<StageAggregate, WireError> {
    let counters = snap.counters.as_ref().ok_or(WireError::MissingCounters)?;
    let counters = counters_from_proto(counters)?;
    let mut agg = StageAggregate::new(settings).map_err(WireError::Settings)?;
    let mut seen = Vec::with_capacity(Metric::ALL.len());
    for h in &snap.hists {
        let metric = Metric::from_name(&h.metric).ok_or_else(|| WireError::UnknownMetric {
            name: h.metric.chars().take(MAX_NAME_IN_ERROR).collect(),
        })?;
        let name = metric.name();
        if seen.contains(&metric) {
            return Err(WireError::DuplicateMetric { metric: name });
        }
        seen.push(metric);
        let spec = metric.spec(&settings);
        check_v2_header(&h.v2, spec).map_err(|reason| WireError::Malformed {
            metric: name,
            reason,
        })?;
        let decoded = MetricHist::from_v2(spec, &h.v2, h.high_outliers, h.highest_outlier)
            .map_err(|source| WireError::Hist {
                metric: name,
                source,
            })?;
        check_outliers(&decoded, spec).map_err(|reason| WireError::Malformed {
            metric: name,
            reason,
        })?;
        agg.set_hist(metric, decoded)
            .map_err(|source| WireError::Hist {
                metric: name,
                source,
            })?;
    }
    agg.counters = counters;
    Ok(agg)
}

/// Refuses anything but an uncompressed V2 encoding with exactly `spec`'s bounds, before the
/// decoder allocates for it (a hostile header could otherwise ask for gigabytes).
fn check_v2_header(bytes: &[u8], spec: HistSpec) -> Result<(), String> {
    let Some(h) = bytes.get(..V2_HEADER_LEN) else {
        return Err(format!(
            "{} bytes is shorter than a V2 histogram header ({V2_HEADER_LEN} bytes)",
            bytes.len()
        ));
    };
    let u32_at = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let u64_at = |i: usize| (u64::from(u32_at(i)) << 32) | u64::from(u32_at(i + 4));
    let cookie = u32_at(0);
    if cookie != V2_COOKIE {
        return Err(format!(
            "cookie {cookie:#010x} is not an uncompressed HdrHistogram V2 encoding ({V2_COOKIE:#010x})"
        ));
    }
    let payload = u32_at(4) as usize;
    let after_header = bytes.len() - V2_HEADER_LEN;
    if payload != after_header {
        return Err(format!(
            "payload length {payload} differs from the {after_header} bytes after the header"
        ));
    }
    let (sigfig, low, high) = (u32_at(12), u64_at(16), u64_at(24));
    if (low, high, sigfig) != (spec.low, spec.high, u32::from(spec.sigfig)) {
        return Err(format!(
            "bounds low {low}, high {high}, sigfig {sigfig} differ from the run's {spec:?}"
        ));
    }
    Ok(())
}

/// Outlier fields must agree with the histogram they describe.
fn check_outliers(h: &MetricHist, spec: HistSpec) -> Result<(), String> {
    let (n, top) = (h.high_outliers(), h.highest_outlier());
    if h.len() > MAX_HIST_VALUES {
        return Err(format!(
            "{} values is more than a histogram can hold ({MAX_HIST_VALUES})",
            h.len()
        ));
    }
    if n > h.len() {
        return Err(format!(
            "high_outliers {n} exceeds the {} values recorded",
            h.len()
        ));
    }
    match (n, top) {
        (0, 0) => Ok(()),
        (0, t) => Err(format!("highest_outlier {t} without any high_outliers")),
        (_, t) if t <= spec.high => Err(format!(
            "highest_outlier {t} is not above the high bound {}",
            spec.high
        )),
        _ => Ok(()),
    }
}

fn counters_to_proto(c: &Counters) -> ProtoCounters {
    ProtoCounters {
        total: c.total,
        success: c.success,
        failed: c.failed,
        errors: c.errors.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        error_examples: c
            .error_examples
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tokens_unknown: c.tokens_unknown,
        tokens_from_tokenizer: c.tokens_from_tokenizer,
        sum_latency_us: c.sum_latency_us,
        sum_ttft_us: c.sum_ttft_us,
        n_ttft: c.n_ttft,
        sum_ttfo_us: c.sum_ttfo_us,
        n_ttfo: c.n_ttfo,
        sum_tpot_ns: c.sum_tpot_ns,
        sum_itl_us: c.sum_itl_us,
        n_itl: c.n_itl,
        sum_corrected_latency_us: c.sum_corrected_latency_us,
        n_corrected: c.n_corrected,
        sum_send_lag_us: c.sum_send_lag_us,
        n_scheduled: c.n_scheduled,
        sum_client_queue_us: c.sum_client_queue_us,
        n_client_queue: c.n_client_queue,
        goodput_checked: c.goodput_checked,
        goodput_met: c.goodput_met,
        conversations: c.conversations,
        prompt_tokens: c.prompt_tokens,
        completion_tokens: c.completion_tokens,
        reasoning_tokens: c.reasoning_tokens,
        cached_tokens: c.cached_tokens,
        first_send_unix_us: c.first_send_unix_us,
        last_done_unix_us: c.last_done_unix_us,
    }
}

fn counters_from_proto(p: &ProtoCounters) -> Result<Counters, WireError> {
    if p.success.checked_add(p.failed) != Some(p.total) {
        return Err(WireError::BadCounters(format!(
            "success {} + failed {} differs from total {}",
            p.success, p.failed, p.total
        )));
    }
    if p.goodput_met > p.goodput_checked || p.goodput_checked > p.total {
        return Err(WireError::BadCounters(format!(
            "goodput met {} of {} checked, of {} requests",
            p.goodput_met, p.goodput_checked, p.total
        )));
    }
    let errors = p
        .errors
        .values()
        .try_fold(0u64, |acc, v| acc.checked_add(*v));
    if errors != Some(p.failed) {
        return Err(WireError::BadCounters(format!(
            "error classes add up to {} but failed is {}",
            errors.map_or_else(|| "more than 2^64".to_string(), |e| e.to_string()),
            p.failed
        )));
    }
    Ok(Counters {
        total: p.total,
        success: p.success,
        failed: p.failed,
        errors: p.errors.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        // only classes that failed, each cut to the bound: a hostile agent cannot grow them
        error_examples: p
            .error_examples
            .iter()
            .filter(|(k, _)| p.errors.contains_key(*k))
            .map(|(k, v)| (k.clone(), crate::metrics::aggregate::error_example(v)))
            .collect(),
        tokens_unknown: p.tokens_unknown,
        tokens_from_tokenizer: p.tokens_from_tokenizer,
        sum_latency_us: p.sum_latency_us,
        sum_ttft_us: p.sum_ttft_us,
        n_ttft: p.n_ttft,
        sum_ttfo_us: p.sum_ttfo_us,
        n_ttfo: p.n_ttfo,
        sum_tpot_ns: p.sum_tpot_ns,
        sum_itl_us: p.sum_itl_us,
        n_itl: p.n_itl,
        sum_corrected_latency_us: p.sum_corrected_latency_us,
        n_corrected: p.n_corrected,
        sum_send_lag_us: p.sum_send_lag_us,
        n_scheduled: p.n_scheduled,
        sum_client_queue_us: p.sum_client_queue_us,
        n_client_queue: p.n_client_queue,
        goodput_checked: p.goodput_checked,
        goodput_met: p.goodput_met,
        conversations: p.conversations,
        prompt_tokens: p.prompt_tokens,
        completion_tokens: p.completion_tokens,
        reasoning_tokens: p.reasoning_tokens,
        cached_tokens: p.cached_tokens,
        first_send_unix_us: p.first_send_unix_us,
        last_done_unix_us: p.last_done_unix_us,
    })
}

/// Decodes a snapshot as a sparse delta (what the coordinator applies every second from every
/// agent): the same checks as [`from_snapshot`], without building full histograms.
pub fn delta_from_snapshot(
    snap: &Snapshot,
    settings: HistSettings,
) -> Result<crate::metrics::aggregate::AggregateDelta, WireError> {
    use crate::metrics::sparse::SparseHist;
    let counters = snap.counters.as_ref().ok_or(WireError::MissingCounters)?;
    let counters = counters_from_proto(counters)?;
    let mut hists: Vec<(Metric, SparseHist)> = Vec::with_capacity(snap.hists.len());
    for h in &snap.hists {
        let metric = Metric::from_name(&h.metric).ok_or_else(|| WireError::UnknownMetric {
            name: h.metric.chars().take(MAX_NAME_IN_ERROR).collect(),
        })?;
        let name = metric.name();
        if hists.iter().any(|(m, _)| *m == metric) {
            return Err(WireError::DuplicateMetric { metric: name });
        }
        let spec = metric.spec(&settings);
        let sparse = SparseHist::from_v2(spec, &h.v2, h.high_outliers, h.highest_outlier).map_err(
            |source| WireError::Hist {
                metric: name,
                source,
            },
        )?;
        let n = sparse.len();
        let bad = |reason: String| WireError::Malformed {
            metric: name,
            reason,
        };
        if n > MAX_HIST_VALUES {
            return Err(bad(format!(
                "{n} values is more than a histogram can hold ({MAX_HIST_VALUES})"
            )));
        }
        if h.high_outliers > n {
            return Err(bad(format!(
                "high_outliers {} exceeds the {n} values recorded",
                h.high_outliers
            )));
        }
        if (h.high_outliers == 0) != (h.highest_outlier == 0)
            || (h.high_outliers > 0 && h.highest_outlier <= spec.high)
        {
            return Err(bad(format!(
                "highest_outlier {} does not match {} high_outliers above {}",
                h.highest_outlier, h.high_outliers, spec.high
            )));
        }
        hists.push((metric, sparse));
    }
    Ok(crate::metrics::aggregate::AggregateDelta { counters, hists })
}
