//! StageAggregate ⇄ protobuf Snapshot: exact roundtrips, exact merges of decoded parts, and
//! hostile snapshots rejected with the metric named.

use std::sync::OnceLock;

use proptest::prelude::*;
use swarm_common::metrics::aggregate::{HistSettings, Metric, StageAggregate};
use swarm_common::metrics::histogram::{HistError, HistSpec, MetricHist};
use swarm_common::metrics::record::{ErrorClass, RequestRecord, TokenSource};
use swarm_common::wire::{WireError, from_snapshot, to_snapshot};
use swarm_proto::Snapshot;

const PERCENTILES: [f64; 9] = [0.0, 1.0, 10.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0];

/// A varied request: successes and failures, closed and open loop, reasoning, outliers.
fn rec(i: u64) -> RequestRecord {
    let sent = i * 1_500;
    let ttft = 2_000 + (i * 7_919) % 40_000;
    let tokens = 1 + (i % 64) as u32;
    let step = 300 + (i % 13) * 50;
    let chunk_us: Vec<u64> = (0..u64::from(tokens)).map(|k| ttft + k * step).collect();
    let latency = ttft + step * u64::from(tokens) + 1_000;
    let mut r = RequestRecord {
        id: i,
        sent_us: sent,
        ttft_us: Some(ttft),
        ttfo_us: (i.is_multiple_of(4)).then_some(ttft + 5 * step),
        latency_us: latency,
        chunk_us,
        prompt_tokens: 20 + (i % 300) as u32,
        completion_tokens: tokens,
        reasoning_tokens: if i.is_multiple_of(4) { 5 } else { 0 },
        cached_tokens: (i % 5) as u32,
        token_source: match i % 9 {
            0 => TokenSource::Tokenizer,
            1 => TokenSource::Unknown,
            _ => TokenSource::Usage,
        },
        status: 200,
        ..Default::default()
    };
    if i.is_multiple_of(3) {
        // open loop: scheduled a little before it went out
        r.scheduled_us = Some(sent.saturating_sub(i % 700));
    }
    if i.is_multiple_of(11) {
        r.error = Some(if i.is_multiple_of(2) {
            ErrorClass::Http5xx
        } else {
            ErrorClass::Timeout
        });
        r.status = if i.is_multiple_of(2) { 503 } else { 0 };
        r.ttft_us = None;
        r.ttfo_us = None;
        r.chunk_us.clear();
    }
    if i == 97 {
        // above the duration histograms' one-hour bound: clamped and counted as an outlier
        r.latency_us = 4_000_000_000;
    }
    if i == 98 {
        // above the token histograms' bound
        r.prompt_tokens = 20_000_000;
    }
    r
}

fn aggregate(ids: impl Iterator<Item = u64>) -> StageAggregate {
    let mut a = StageAggregate::new(HistSettings::default()).expect("default settings are valid");
    for i in ids {
        a.record(&rec(i), 1_700_000_000_000_000);
    }
    a
}

fn assert_same(a: &StageAggregate, b: &StageAggregate) {
    assert_eq!(a.counters, b.counters);
    for m in Metric::ALL {
        let (x, y) = (a.hist(m), b.hist(m));
        assert_eq!(x.len(), y.len(), "{m:?} len");
        assert_eq!(x.min(), y.min(), "{m:?} min");
        assert_eq!(x.max(), y.max(), "{m:?} max");
        assert_eq!(x.high_outliers(), y.high_outliers(), "{m:?} outliers");
        assert_eq!(x.highest_outlier(), y.highest_outlier(), "{m:?} highest");
        for p in PERCENTILES {
            assert_eq!(x.percentile(p), y.percentile(p), "{m:?} p{p}");
        }
    }
}

#[test]
fn metric_names_are_the_serde_names() {
    for m in Metric::ALL {
        let serde = serde_json::to_value(m).expect("serializes");
        assert_eq!(serde, serde_json::Value::from(m.name()));
        assert_eq!(Metric::from_name(m.name()), Some(m));
    }
    assert_eq!(Metric::from_name("Latency"), None);
}

#[test]
fn roundtrip_is_exact() {
    let a = aggregate(0..400);
    // the fixture exercises what it claims to
    let c = &a.counters;
    assert!(
        c.failed > 10 && c.n_scheduled > 100 && c.n_ttfo > 50,
        "{c:?}"
    );
    assert_eq!(a.hist(Metric::Latency).high_outliers(), 1);
    assert_eq!(a.hist(Metric::InputTokens).high_outliers(), 1);
    assert!(!a.hist(Metric::CorrectedLatency).is_empty());

    let snap = to_snapshot(&a);
    assert_eq!(snap.hists.len(), Metric::ALL.len());
    let names: Vec<_> = snap.hists.iter().map(|h| h.metric.as_str()).collect();
    assert!(names.contains(&"corrected_latency") && names.contains(&"send_lag"));
    let b = from_snapshot(&snap, HistSettings::default()).expect("decodes");
    assert_same(&a, &b);
    assert_eq!(b.hist(Metric::Latency).max(), 4_000_000_000);
}

#[test]
fn a_clamped_outlier_survives_v2() {
    // the top bin reaches past `high`; a value clamped to `high` must still decode
    for spec in [
        HistSpec::DURATION_US,
        HistSpec::TOKENS,
        HistSpec::RATE_MILLI,
    ] {
        let mut h = MetricHist::new(spec).expect("valid");
        h.record(spec.high + 12_345);
        let back = MetricHist::from_v2(spec, &h.to_v2(), 1, spec.high + 12_345).expect("decodes");
        assert_eq!(back.len(), 1);
        assert_eq!(back.max(), h.max());
        assert_eq!(back.highest_outlier(), spec.high + 12_345);
        assert_eq!(back.percentile(50.0), h.percentile(50.0));
    }
}

#[test]
fn empty_aggregate_roundtrips() {
    let a = aggregate(0..0);
    let b = from_snapshot(&to_snapshot(&a), HistSettings::default()).expect("decodes");
    assert_same(&a, &b);
}

#[test]
fn merged_decoded_parts_equal_recording_everything_in_one() {
    let whole = aggregate(0..600);
    let parts: Vec<_> = (0..3u64)
        .map(|part| aggregate((0..600).filter(move |i| i % 3 == part)))
        .collect();
    let mut merged = StageAggregate::new(HistSettings::default()).expect("valid");
    for p in &parts {
        let decoded = from_snapshot(&to_snapshot(p), HistSettings::default()).expect("decodes");
        merged.merge(&decoded).expect("same settings");
    }
    assert_same(&merged, &whole);
    assert_eq!(merged.counters.total, 600);
}

#[test]
fn missing_counters_are_an_error() {
    let mut snap = to_snapshot(&aggregate(0..10));
    snap.counters = None;
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("no counters");
    assert!(matches!(err, WireError::MissingCounters), "{err}");
}

#[test]
fn garbage_bytes_name_the_metric() {
    let mut snap = to_snapshot(&aggregate(0..10));
    let i = snap
        .hists
        .iter()
        .position(|h| h.metric == "ttft")
        .expect("ttft is sent");
    snap.hists[i].v2 = b"not a histogram".to_vec();
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("garbage");
    assert!(
        matches!(err, WireError::Malformed { metric: "ttft", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("metric ttft: "), "{err}");
}

#[test]
fn truncated_and_corrupted_payloads_are_errors() {
    let snap = to_snapshot(&aggregate(0..50));
    let i = snap
        .hists
        .iter()
        .position(|h| h.metric == "itl")
        .expect("itl is sent");
    let good = snap.hists[i].v2.clone();
    assert!(good.len() > 41, "itl has a payload");

    let mut cut = snap.clone();
    cut.hists[i].v2.truncate(good.len() - 1);
    let err = from_snapshot(&cut, HistSettings::default()).expect_err("truncated");
    assert!(
        err.to_string().contains("metric itl: payload length"),
        "{err}"
    );

    // a payload whose counts run past the end of the histogram's counts array
    let mut long = snap.clone();
    let mut bytes = good[..40].to_vec();
    // zig-zag varint of -2^27: skip 2^27 empty bins, then counts of 1 (zig-zag 2)
    let mut buf = vec![0xff, 0xff, 0xff, 0x7f];
    buf.extend_from_slice(&[0x02; 16]);
    bytes[4..8].copy_from_slice(&(buf.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&buf);
    long.hists[i].v2 = bytes;
    let err = from_snapshot(&long, HistSettings::default()).expect_err("too long");
    assert!(
        matches!(err, WireError::Hist { metric: "itl", .. }),
        "{err}"
    );
}

#[test]
fn unknown_and_duplicate_metrics_are_errors() {
    let mut snap = to_snapshot(&aggregate(0..10));
    snap.hists[0].metric = "ttft_seconds".into();
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("unknown");
    assert_eq!(err.to_string(), "unknown metric \"ttft_seconds\"");

    let mut snap = to_snapshot(&aggregate(0..10));
    let dup = snap.hists[3].clone();
    snap.hists.push(dup);
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("duplicate");
    assert!(
        matches!(err, WireError::DuplicateMetric { metric: "tpot" }),
        "{err}"
    );
}

#[test]
fn absent_metrics_stay_empty() {
    let a = aggregate(0..30);
    let mut snap = to_snapshot(&a);
    snap.hists.retain(|h| h.metric == "latency");
    let b = from_snapshot(&snap, HistSettings::default()).expect("decodes");
    assert_eq!(b.hist(Metric::Latency).len(), a.hist(Metric::Latency).len());
    assert!(b.hist(Metric::Ttft).is_empty());
    assert_eq!(b.counters, a.counters);
}

#[test]
fn other_bounds_than_the_runs_are_an_error() {
    let a = aggregate(0..30);
    let mut narrow = HistSettings::default();
    narrow.tokens.sigfig = 2;
    let err = from_snapshot(&to_snapshot(&a), narrow).expect_err("bounds differ");
    assert!(
        matches!(
            err,
            WireError::Malformed {
                metric: "input_tokens",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("differ from the run's"), "{err}");
}

#[test]
fn values_above_the_high_bound_are_an_error() {
    // Encode a value above TOKENS.high with a wider histogram, then claim TOKENS' bounds in the
    // header: the value still lands inside TOKENS' counts array, but above its high bound.
    let wide = HistSpec {
        high: 20_000_000,
        ..HistSpec::TOKENS
    };
    let mut h = MetricHist::new(wide).expect("valid");
    h.record(15_000_000);
    let mut bytes = h.to_v2();
    bytes[24..32].copy_from_slice(&HistSpec::TOKENS.high.to_be_bytes());

    let mut snap = to_snapshot(&aggregate(0..5));
    let i = snap
        .hists
        .iter()
        .position(|h| h.metric == "output_tokens")
        .expect("sent");
    snap.hists[i].v2 = bytes;
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("above high");
    match err {
        WireError::Hist {
            metric: "output_tokens",
            source: HistError::Decode(msg),
        } => assert!(msg.contains("above the high bound"), "{msg}"),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn inconsistent_counters_and_outliers_are_errors() {
    let a = aggregate(0..30);
    let mut snap = to_snapshot(&a);
    if let Some(c) = snap.counters.as_mut() {
        c.success += 1;
    }
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("counters");
    assert!(err.to_string().contains("differs from total"), "{err}");

    let mut snap = to_snapshot(&a);
    if let Some(c) = snap.counters.as_mut() {
        c.errors.insert("timeout".into(), u64::MAX);
    }
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("errors");
    assert!(err.to_string().contains("error classes add up to"), "{err}");

    let mut snap = to_snapshot(&a);
    let i = snap
        .hists
        .iter()
        .position(|h| h.metric == "latency")
        .expect("sent");
    snap.hists[i].high_outliers = 1_000;
    snap.hists[i].highest_outlier = u64::MAX;
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("outliers");
    assert!(
        matches!(
            err,
            WireError::Malformed {
                metric: "latency",
                ..
            }
        ),
        "{err}"
    );
    snap.hists[i].high_outliers = 1;
    snap.hists[i].highest_outlier = 5;
    let err = from_snapshot(&snap, HistSettings::default()).expect_err("outlier below high");
    assert!(
        err.to_string().contains("not above the high bound"),
        "{err}"
    );
}

/// A snapshot of 120 requests, built once for the property tests.
fn fixture() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| to_snapshot(&aggregate(0..120)))
}

fn decode_one(metric: &str, v2: Vec<u8>, high_outliers: u64, highest_outlier: u64) {
    let mut snap = fixture().clone();
    let i = snap
        .hists
        .iter()
        .position(|h| h.metric == metric)
        .expect("sent");
    snap.hists[i].v2 = v2;
    snap.hists[i].high_outliers = high_outliers;
    snap.hists[i].highest_outlier = highest_outlier;
    // Ok or Err, never a panic; when it decodes the result must be usable
    if let Ok(a) = from_snapshot(&snap, HistSettings::default()) {
        for m in Metric::ALL {
            let h = a.hist(m);
            let _ = (h.percentile(50.0), h.percentile(99.9), h.max(), h.min());
        }
        let mut sum = StageAggregate::new(HistSettings::default()).expect("valid");
        sum.merge(&a).expect("same settings");
        sum.merge(&a).expect("same settings");
        let _ = sum.hist(Metric::Latency).percentile(99.0);
    }
}

fn metric_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(Metric::ALL.map(Metric::name).to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(
        metric in metric_name(),
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        n in any::<u64>(),
        top in any::<u64>(),
    ) {
        decode_one(metric, bytes, n, top);
    }

    #[test]
    fn arbitrary_payloads_behind_a_valid_header_never_panic(
        metric in metric_name(),
        payload in prop::collection::vec(any::<u8>(), 0..512),
        n in 0u64..4,
    ) {
        let m = Metric::from_name(metric).expect("known");
        let empty = MetricHist::new(m.spec(&HistSettings::default())).expect("valid");
        let mut bytes = empty.to_v2()[..40].to_vec();
        bytes[4..8].copy_from_slice(&(payload.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&payload);
        decode_one(metric, bytes, n, u64::MAX);
    }

    #[test]
    fn corrupted_encodings_never_panic(
        metric in metric_name(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = fixture()
            .hists
            .iter()
            .find(|h| h.metric == metric)
            .expect("sent")
            .v2
            .clone();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= b;
        }
        decode_one(metric, bytes, 0, 0);
    }
}
