//! Live run metrics for Prometheus: what the coordinator has merged so far, served as the text
//! exposition format on `--metrics-listen` (`GET /metrics`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio_util::sync::CancellationToken;

/// Counters of one stage.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct StageCounts {
    total: u64,
    failed: u64,
    completion_tokens: u64,
    ttft_p99_us: u64,
}

/// The live metrics of a coordinator process; cheap to share.
#[derive(Debug, Default)]
pub struct LiveMetrics {
    stages: Mutex<BTreeMap<(String, String), StageCounts>>,
    agents: AtomicU64,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl LiveMetrics {
    /// Adds a merged delta of `workload`/`stage`.
    pub fn add(
        &self,
        workload: &str,
        stage: &str,
        total: u64,
        failed: u64,
        completion_tokens: u64,
    ) {
        let mut m = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        let e = m
            .entry((workload.to_string(), stage.to_string()))
            .or_default();
        e.total = e.total.saturating_add(total);
        e.failed = e.failed.saturating_add(failed);
        e.completion_tokens = e.completion_tokens.saturating_add(completion_tokens);
    }

    /// Sets a stage's p99 TTFT so far.
    pub fn set_ttft_p99(&self, workload: &str, stage: &str, us: u64) {
        let mut m = self.stages.lock().unwrap_or_else(|p| p.into_inner());
        m.entry((workload.to_string(), stage.to_string()))
            .or_default()
            .ttft_p99_us = us;
    }

    /// Sets the number of live agents.
    pub fn set_agents(&self, n: u64) {
        self.agents.store(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of everything.
    pub fn render(&self) -> String {
        let m = self
            .stages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        let mut family =
            |name: &str, kind: &str, help: &str, pick: &dyn Fn(&StageCounts) -> String| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for ((w, s), c) in &m {
                    let _ = writeln!(
                        out,
                        "{name}{{workload=\"{}\",stage=\"{}\"}} {}",
                        escape(w),
                        escape(s),
                        pick(c)
                    );
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
            &|c| format!("{}", c.ttft_p99_us as f64 / 1e6),
        );
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
                    live.render(),
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

    #[test]
    fn renders_the_text_format() {
        let m = LiveMetrics::default();
        m.add("chat", "parallel_2", 10, 1, 640);
        m.add("chat", "parallel_2", 5, 0, 320);
        m.set_ttft_p99("chat", "parallel_2", 45_000);
        m.set_agents(3);
        let text = m.render();
        assert!(
            text.contains("swarm_requests_total{workload=\"chat\",stage=\"parallel_2\"} 15\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "swarm_requests_failed_total{workload=\"chat\",stage=\"parallel_2\"} 1\n"
            )
        );
        assert!(text.contains(
            "swarm_completion_tokens_total{workload=\"chat\",stage=\"parallel_2\"} 960\n"
        ));
        assert!(
            text.contains("swarm_ttft_p99_seconds{workload=\"chat\",stage=\"parallel_2\"} 0.045\n")
        );
        assert!(text.contains("swarm_agents 3\n"));
        assert!(text.contains("# TYPE swarm_requests_total counter"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = LiveMetrics::default();
        m.add("a\"b", "s\\t", 1, 0, 0);
        assert!(m.render().contains("workload=\"a\\\"b\",stage=\"s\\\\t\""));
    }
}
