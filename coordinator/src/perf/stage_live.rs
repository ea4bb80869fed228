//! What a stage shows while it runs: the progress bar, the live metrics (Prometheus, OTLP), the
//! time series and `live.json`.

use std::path::Path;

use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::aggregate::Metric;
use tokio::time::Instant;

use super::job::{PerfJob, StageSpec};
use super::live_file::{LiveFile, LiveStatus};
use super::progress::StageProgress;
use super::stage::{Group, ProgressMode};
use super::timeseries::TimeSeries;
use crate::cluster::Cluster;
use crate::cluster::service::now_unix_us;

/// A running stage's views.
pub(super) struct StageLive<'a> {
    job: &'a PerfJob,
    stage: &'a StageSpec,
    planned: Option<u64>,
    progress: StageProgress,
    series: TimeSeries,
    file: LiveFile,
    started: Instant,
}

impl<'a> StageLive<'a> {
    /// Views of `stage` run by `groups`, writing into `dir`.
    pub(super) fn new(
        job: &'a PerfJob,
        stage: &'a StageSpec,
        groups: &[Group],
        dir: &Path,
        mode: ProgressMode,
    ) -> Self {
        let planned = stage.number.map(|n| n * groups.len() as u64);
        Self {
            job,
            stage,
            planned,
            progress: match job.multi_turn {
                Some(_) => StageProgress::new(stage, planned, mode).of_conversations(),
                None => StageProgress::new(stage, planned, mode),
            },
            series: TimeSeries::default(),
            file: LiveFile::new(dir),
            started: Instant::now(),
        }
    }

    /// Refreshes every view from the merged aggregate.
    pub(super) fn update(&mut self, cluster: &Cluster, whole: &StageAggregate) {
        let alive = cluster.registry.agents().len();
        self.progress.update(whole, alive);
        swarm_io::telemetry::metrics::agents(alive as u64);
        cluster.live.set_agents(alive as u64);
        let p99 = whole.hist(Metric::Ttft).percentile(99.0);
        let (job, stage) = (&self.job.name, &self.stage.name);
        cluster.live.set_ttft_p99(job, stage, p99);
        let elapsed_s = self.started.elapsed().as_secs_f64();
        self.series.sample(elapsed_s, &whole.counters);
        let c = &whole.counters;
        let per_s = |n: u64| n as f64 / elapsed_s.max(1e-3);
        self.file.update(&LiveStatus {
            workload: self.job.name.clone(),
            stage: self.stage.name.clone(),
            elapsed_s,
            total: c.total,
            failed: c.failed,
            planned: self.planned,
            req_per_s: per_s(c.total),
            output_tok_per_s: per_s(c.completion_tokens),
            ttft_p99_ms: p99 as f64 / 1e3,
            agents: alive as u64,
            updated_unix_ms: now_unix_us() / 1000,
        });
    }

    /// Clears the bar, leaves the final p99 in the live metrics, removes `live.json` and writes
    /// the time series into `dir`.
    pub(super) async fn finish(
        self,
        cluster: &Cluster,
        dir: &Path,
        whole: &StageAggregate,
    ) -> anyhow::Result<()> {
        self.progress.finish();
        let p99 = whole.hist(Metric::Ttft).percentile(99.0);
        let (job, stage) = (&self.job.name, &self.stage.name);
        cluster.live.set_ttft_p99(job, stage, p99);
        self.file.finish().await;
        let mut series = self.series;
        series.write(dir, self.started.elapsed().as_secs_f64(), &whole.counters)?;
        Ok(())
    }
}
