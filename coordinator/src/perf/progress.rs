//! The live progress line of a stage: requests done, rate, errors, p99 TTFT so far, agents alive.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use swarm_common::metrics::StageAggregate;
use swarm_common::metrics::aggregate::Metric;
use tokio::time::Instant;

use super::job::StageSpec;
use super::stage::ProgressMode;

/// A stage's progress display.
pub struct StageProgress {
    bar: ProgressBar,
    started: Instant,
    /// Its position is conversations begun, not requests.
    conversations: bool,
}

impl StageProgress {
    /// A bar of `planned` requests (a spinner when only a duration bounds the stage).
    pub fn new(stage: &StageSpec, planned: Option<u64>, mode: ProgressMode) -> Self {
        let bar = match (mode, planned) {
            (ProgressMode::Quiet, _) => ProgressBar::hidden(),
            (_, Some(n)) => ProgressBar::new(n),
            (_, None) => ProgressBar::new_spinner(),
        };
        if mode == ProgressMode::Bar {
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        }
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(stage.name.clone());
        Self {
            bar,
            started: Instant::now(),
            conversations: false,
        }
    }

    /// A bar counting conversations begun (`--multi-turn`: `planned` is conversations).
    pub fn of_conversations(mut self) -> Self {
        self.conversations = true;
        self
    }

    /// Refreshes from the merged aggregate.
    pub fn update(&self, whole: &StageAggregate, agents_alive: usize) {
        let c = &whole.counters;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_position(if self.conversations {
            c.conversations
        } else {
            c.total
        });
        self.bar.set_message(format!(
            "{:.1} req/s, {} failed, p99 TTFT {:.1} ms, {agents_alive} agent(s)",
            c.total as f64 / secs,
            c.failed,
            whole.hist(Metric::Ttft).percentile(99.0) as f64 / 1e3
        ));
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
