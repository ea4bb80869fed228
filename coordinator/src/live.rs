//! Live run metrics for Prometheus: what the coordinator has merged so far, served as the text
//! exposition format on `--metrics-listen` (`GET /metrics`).
//!
//! Every delta the stage's book applies (each agent's interval `ShardProgress` and its last
//! `ShardDone`, once per sequence number) is added here too, so when a stage ends its counters
//! equal its `benchmark_summary.json` exactly. Per `workload`/`stage`:
//!
//! | metric | type | what |
//! |---|---|---|
//! | `swarm_requests_total` | counter | requests finished (`Total Requests`) |
//! | `swarm_requests_failed_total` | counter | requests that failed (`Failed Requests`) |
//! | `swarm_completion_tokens_total` | counter | completion tokens of successful requests |
//! | `swarm_ttft_seconds` | histogram | time to first token of successful requests |
//! | `swarm_latency_seconds` | histogram | end-to-end latency of successful requests; its `_count` is the successes (`Success Requests`) |
//! | `swarm_ttft_p99_seconds` | gauge | p99 TTFT of the stage so far |
//!
//! and `swarm_agents` (gauge, agents connected). A stage's series appear at 0 when it starts.
//! Histogram `_count` and `_sum` are exact; a bucket holds the values whose HdrHistogram bin
//! starts at or below its bound (bins are 0.1 % wide). At the end of a run the coordinator
//! waits (bounded) for one more scrape, so a scraper sees the last stage's final numbers.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use swarm_common::metrics::aggregate::{AggregateDelta, Metric};
use swarm_common::metrics::sparse::SparseHist;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Upper bounds (µs) of the TTFT and latency histogram buckets; `+Inf` follows.
const BUCKETS_US: [u64; 33] = [
    1_000,
    2_500,
    5_000,
    7_500,
    10_000,
    15_000,
    20_000,
    30_000,
    50_000,
    75_000,
    100_000,
    150_000,
    200_000,
    300_000,
    500_000,
    750_000,
    1_000_000,
    1_500_000,
    2_000_000,
    3_000_000,
    5_000_000,
    7_500_000,
    10_000_000,
    15_000_000,
    20_000_000,
    30_000_000,
    45_000_000,
    60_000_000,
    90_000_000,
    120_000_000,
    180_000_000,
    300_000_000,
    600_000_000,
];

/// The longest a run's end waits for a last scrape.
const LAST_SCRAPE_MAX: Duration = Duration::from_secs(120);

/// The scrape interval assumed when only one scrape was seen (a ServiceMonitor's usual one).
const ASSUMED_SCRAPE_INTERVAL: Duration = Duration::from_secs(15);

/// Non-cumulative bucket counts of one histogram, fed from sparse deltas.
#[derive(Debug, Default, Clone, PartialEq)]
struct Buckets {
    /// `counts[i]`: values in (`BUCKETS_US[i-1]`, `BUCKETS_US[i]`]; the last slot is `+Inf`.
    counts: Vec<u64>,
}

impl Buckets {
    fn add(&mut self, h: &SparseHist) {
        if self.counts.is_empty() {
            self.counts = vec![0; BUCKETS_US.len() + 1];
        }
        for &(low, n) in &h.bins {
            let i = BUCKETS_US.partition_point(|&b| b < low);
            if let Some(c) = self.counts.get_mut(i) {
                *c = c.saturating_add(n);
            }
        }
    }

    /// Cumulative counts per finite bound, never above `count` (the exact number observed).
    fn cumulative(&self, count: u64) -> Vec<u64> {
        let mut sum = 0u64;
        (0..BUCKETS_US.len())
            .map(|i| {
                sum = sum.saturating_add(self.counts.get(i).copied().unwrap_or(0));
                sum.min(count)
            })
            .collect()
    }
}

/// Counters and histograms of one stage.
#[derive(Debug, Default, Clone, PartialEq)]
struct StageCounts {
    total: u64,
    success: u64,
    failed: u64,
    completion_tokens: u64,
    ttft_p99_us: u64,
    n_ttft: u64,
    sum_ttft_us: u64,
    sum_latency_us: u64,
    ttft: Buckets,
    latency: Buckets,
}

impl StageCounts {
    /// The buckets, exact count and exact sum (µs) of `m`'s histogram (TTFT or latency).
    fn histogram(&self, m: Metric) -> (&Buckets, u64, u64) {
        match m {
            Metric::Ttft => (&self.ttft, self.n_ttft, self.sum_ttft_us),
            _ => (&self.latency, self.success, self.sum_latency_us),
        }
    }
}

/// What is served, and how far scrapers have read it.
#[derive(Debug, Default)]
struct State {
    stages: BTreeMap<(String, String), StageCounts>,
    /// Bumped on every change of the stages.
    version: u64,
    /// `version` as of the last scrape.
    scraped: u64,
    /// When the last scrape happened.
    last_scrape: Option<Instant>,
    /// The time between the last two scrapes.
    scrape_gap: Option<Duration>,
}

/// The live metrics of a coordinator process; cheap to share.
#[derive(Debug, Default)]
pub struct LiveMetrics {
    state: Mutex<State>,
    agents: AtomicU64,
    scraped: tokio::sync::Notify,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(us: u64) -> String {
    format!("{}", us as f64 / 1e6)
}

impl LiveMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Shows `workload`/`stage` with zero counts (a stage starting), so rates start from 0.
    pub fn stage_started(&self, workload: &str, stage: &str) {
        let mut s = self.lock();
        s.stages
            .entry((workload.to_string(), stage.to_string()))
            .or_default();
        s.version += 1;
    }

    /// Adds a delta of `workload`/`stage` that the stage's book merged (call once per applied
    /// delta: progress and done alike).
    pub fn apply(&self, workload: &str, stage: &str, delta: &AggregateDelta) {
        let mut s = self.lock();
        let e = s
            .stages
            .entry((workload.to_string(), stage.to_string()))
            .or_default();
        let c = &delta.counters;
        e.total = e.total.saturating_add(c.total);
        e.success = e.success.saturating_add(c.success);
        e.failed = e.failed.saturating_add(c.failed);
        e.completion_tokens = e.completion_tokens.saturating_add(c.completion_tokens);
        e.n_ttft = e.n_ttft.saturating_add(c.n_ttft);
        e.sum_ttft_us = e.sum_ttft_us.saturating_add(c.sum_ttft_us);
        e.sum_latency_us = e.sum_latency_us.saturating_add(c.sum_latency_us);
        for (m, h) in &delta.hists {
            match m {
                Metric::Ttft => e.ttft.add(h),
                Metric::Latency => e.latency.add(h),
                _ => {}
            }
        }
        s.version += 1;
    }

    /// Sets a stage's p99 TTFT so far.
    pub fn set_ttft_p99(&self, workload: &str, stage: &str, us: u64) {
        let mut s = self.lock();
        let e = s
            .stages
            .entry((workload.to_string(), stage.to_string()))
            .or_default();
        if e.ttft_p99_us != us {
            e.ttft_p99_us = us;
            s.version += 1;
        }
    }

    /// Sets the number of live agents.
    pub fn set_agents(&self, n: u64) {
        self.agents.store(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of everything, without counting it as a scrape.
    pub fn render(&self) -> String {
        let m = self.lock().stages.clone();
        self.render_stages(&m)
    }

    /// [`LiveMetrics::render`] for a scraper: remembers that everything so far was read.
    pub fn scrape(&self) -> String {
        let m = {
            let mut s = self.lock();
            let now = Instant::now();
            if let Some(last) = s.last_scrape {
                s.scrape_gap = Some(now.saturating_duration_since(last));
            }
            s.last_scrape = Some(now);
            s.scraped = s.version;
            s.stages.clone()
        };
        self.scraped.notify_waiters();
        self.render_stages(&m)
    }

    /// Waits until a scraper has read everything merged so far, so the last stage's final
    /// numbers reach it before the endpoint closes: at most one and a half scrape intervals
    /// and a second (as last seen; 15 s assumed after a single scrape, 2 minutes at most), not
    /// at all if nothing ever scraped, and not after `cancel`.
    pub async fn wait_for_last_scrape(&self, cancel: &CancellationToken) {
        let limit = {
            let s = self.lock();
            if s.last_scrape.is_none() || s.scraped == s.version {
                return;
            }
            let gap = s.scrape_gap.unwrap_or(ASSUMED_SCRAPE_INTERVAL);
            (gap + gap / 2 + Duration::from_secs(1)).min(LAST_SCRAPE_MAX)
        };
        tracing::info!(
            limit_s = limit.as_secs_f64(),
            "waiting for a last scrape of the live metrics"
        );
        let until = Instant::now() + limit;
        // each pass waits for a scrape, the deadline or the cancellation: bounded by `until`
        loop {
            let scraped = self.scraped.notified();
            {
                let s = self.lock();
                if s.scraped == s.version {
                    return;
                }
            }
            tokio::select! {
                _ = scraped => {}
                _ = tokio::time::sleep_until(until) => {
                    tracing::warn!("no scrape of the live metrics came; the last numbers were not read");
                    return;
                }
                _ = cancel.cancelled() => return,
            }
        }
    }

    fn render_stages(&self, m: &BTreeMap<(String, String), StageCounts>) -> String {
        let mut out = String::new();
        let labels =
            |w: &str, s: &str| format!("workload=\"{}\",stage=\"{}\"", escape(w), escape(s));
        let mut family =
            |name: &str, kind: &str, help: &str, pick: &dyn Fn(&StageCounts) -> String| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for ((w, s), c) in m {
                    let _ = writeln!(out, "{name}{{{}}} {}", labels(w, s), pick(c));
                }
            };
        family(
            "swarm_requests_total",
            "counter",
            "Requests finished, merged from every agent.",
            &|c| c.total.to_string(),
        );
        family(
            "swarm_requests_failed_total",
            "counter",
            "Requests that failed.",
            &|c| c.failed.to_string(),
        );
        family(
            "swarm_completion_tokens_total",
            "counter",
            "Completion tokens of successful requests.",
            &|c| c.completion_tokens.to_string(),
        );
        family(
            "swarm_ttft_p99_seconds",
            "gauge",
            "p99 time to first token of the stage so far.",
            &|c| seconds(c.ttft_p99_us),
        );
        let hists = [
            (
                "swarm_ttft_seconds",
                "Time to first token of successful requests.",
                Metric::Ttft,
            ),
            (
                "swarm_latency_seconds",
                "End-to-end latency of successful requests.",
                Metric::Latency,
            ),
        ];
        for (name, help, metric) in hists {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
            for ((w, s), c) in m {
                let l = labels(w, s);
                let (buckets, count, sum_us) = c.histogram(metric);
                for (bound, n) in BUCKETS_US.iter().zip(buckets.cumulative(count)) {
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"{}\"}} {n}", seconds(*bound));
                }
                let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {count}");
                let _ = writeln!(out, "{name}_sum{{{l}}} {}", seconds(sum_us));
                let _ = writeln!(out, "{name}_count{{{l}}} {count}");
            }
        }
        let _ = writeln!(
            out,
            "# HELP swarm_agents Agents connected.\n# TYPE swarm_agents gauge\nswarm_agents {}",
            self.agents.load(Ordering::Relaxed)
        );
        out
    }
}

/// Serves `GET /metrics` on `addr` until `cancel`; returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    live: Arc<LiveMetrics>,
    cancel: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("--metrics-listen {addr}"))?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let live = Arc::clone(&live);
            async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    live.scrape(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "metrics endpoint failed");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_common::metrics::aggregate::Counters;

    fn delta(total: u64, failed: u64, tokens: u64, latencies_us: &[u64]) -> AggregateDelta {
        let bins: Vec<(u64, u64)> = latencies_us.iter().map(|&v| (v, 1)).collect();
        let sum: u64 = latencies_us.iter().sum();
        AggregateDelta {
            counters: Counters {
                total,
                success: total - failed,
                failed,
                completion_tokens: tokens,
                n_ttft: latencies_us.len() as u64,
                sum_ttft_us: sum / 2,
                sum_latency_us: sum,
                ..Default::default()
            },
            hists: vec![
                (
                    Metric::Ttft,
                    SparseHist {
                        bins: latencies_us.iter().map(|&v| (v / 2, 1)).collect(),
                        ..Default::default()
                    },
                ),
                (
                    Metric::Latency,
                    SparseHist {
                        bins,
                        ..Default::default()
                    },
                ),
            ],
        }
    }

    #[test]
    fn renders_the_text_format() {
        let m = LiveMetrics::default();
        m.stage_started("chat", "parallel_2");
        assert!(
            m.render()
                .contains("swarm_requests_total{workload=\"chat\",stage=\"parallel_2\"} 0\n"),
            "a started stage shows zeros"
        );
        m.apply("chat", "parallel_2", &delta(10, 1, 640, &[4_000; 9]));
        m.apply(
            "chat",
            "parallel_2",
            &delta(5, 0, 320, &[50_000, 60_000, 2_000_000, 3_700_000_000, 1]),
        );
        m.set_ttft_p99("chat", "parallel_2", 45_000);
        m.set_agents(3);
        let text = m.render();
        let l = "workload=\"chat\",stage=\"parallel_2\"";
        for want in [
            format!("swarm_requests_total{{{l}}} 15\n"),
            format!("swarm_requests_failed_total{{{l}}} 1\n"),
            format!("swarm_completion_tokens_total{{{l}}} 960\n"),
            format!("swarm_ttft_p99_seconds{{{l}}} 0.045\n"),
            "swarm_agents 3\n".to_string(),
            "# TYPE swarm_requests_total counter".to_string(),
            "# TYPE swarm_latency_seconds histogram".to_string(),
            // 9 × 4 ms and 1 µs in the first bucket; 50 ms is at its bound, so in it
            format!("swarm_latency_seconds_bucket{{{l},le=\"0.005\"}} 10\n"),
            format!("swarm_latency_seconds_bucket{{{l},le=\"0.05\"}} 11\n"),
            format!("swarm_latency_seconds_bucket{{{l},le=\"0.075\"}} 12\n"),
            format!("swarm_latency_seconds_bucket{{{l},le=\"2\"}} 13\n"),
            format!("swarm_latency_seconds_bucket{{{l},le=\"600\"}} 13\n"),
            format!("swarm_latency_seconds_bucket{{{l},le=\"+Inf\"}} 14\n"),
            format!("swarm_latency_seconds_count{{{l}}} 14\n"),
            format!("swarm_latency_seconds_sum{{{l}}} 3702.146001\n"),
            format!("swarm_ttft_seconds_bucket{{{l},le=\"0.005\"}} 10\n"),
            format!("swarm_ttft_seconds_count{{{l}}} 14\n"),
        ] {
            assert!(text.contains(&want), "{want:?} in:\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let m = LiveMetrics::default();
        m.apply("a\"b", "s\\t", &delta(1, 0, 0, &[]));
        assert!(m.render().contains("workload=\"a\\\"b\",stage=\"s\\\\t\""));
    }

    #[tokio::test]
    async fn the_end_waits_for_a_scrape_of_the_last_numbers() {
        let m = Arc::new(LiveMetrics::default());
        let cancel = CancellationToken::new();
        // nobody ever scraped: no wait
        m.apply("w", "s", &delta(1, 0, 0, &[]));
        let t = Instant::now();
        m.wait_for_last_scrape(&cancel).await;
        assert!(t.elapsed() < Duration::from_millis(50));
        // scraped every 200 ms; new numbers since: wait until the next scrape
        m.scrape();
        tokio::time::sleep(Duration::from_millis(200)).await;
        m.scrape();
        m.apply("w", "s", &delta(1, 0, 0, &[]));
        let scraper = {
            let m = Arc::clone(&m);
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(150)).await;
                m.scrape()
            })
        };
        let t = Instant::now();
        m.wait_for_last_scrape(&cancel).await;
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(140) && waited < Duration::from_millis(1200),
            "{waited:?}"
        );
        let text = scraper.await.expect("scraper");
        assert!(text.contains("swarm_requests_total{workload=\"w\",stage=\"s\"} 2\n"));
        // read already: no wait
        let t = Instant::now();
        m.wait_for_last_scrape(&cancel).await;
        assert!(t.elapsed() < Duration::from_millis(50));
        // no scrape comes: gives up after 1.5 intervals (≈ 150 ms) and a second
        m.apply("w", "s", &delta(1, 0, 0, &[]));
        let t = Instant::now();
        m.wait_for_last_scrape(&cancel).await;
        let waited = t.elapsed();
        assert!(
            waited >= Duration::from_millis(1200) && waited < Duration::from_secs(4),
            "{waited:?}"
        );
        // a cancelled run does not wait
        cancel.cancel();
        let t = Instant::now();
        m.wait_for_last_scrape(&cancel).await;
        assert!(t.elapsed() < Duration::from_millis(50));
    }
}
