//! The soak: a long open-loop run at a fixed rate against llm-sim with three agent processes.
//! Every 10 s the RSS and open file descriptors of each process are sampled; at the end the
//! achieved rate — measured from the requests' actual send times in the stage's
//! `requests.sqlite` — is compared with the target, the lag of each send behind its schedule is
//! reported per minute, and memory/fd growth is compared with its bounds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use super::procs::{free_port, run_plan, start_agent, start_sim, summaries, wait_listening};
use super::summary::Counts;

/// RSS may grow by at most this much between the first sample after warm-up and the last.
pub const RSS_GROWTH_BOUND_KIB: u64 = 64 * 1024;
/// Open descriptors may grow by at most this many.
pub const FD_GROWTH_BOUND: i64 = 16;

/// One process's samples.
struct Track {
    name: String,
    pid: u32,
    rss_kib: Vec<u64>,
    fds: Vec<i64>,
}

/// Runs the soak for `minutes` at `rate` req/s; returns the markdown report and whether every
/// bound held.
pub async fn run(dir: &Path, minutes: f64, rate: f64) -> anyhow::Result<(String, bool)> {
    std::fs::create_dir_all(dir)?;
    let (sim, url) = start_sim(
        &["--ttft-ms", "20", "--itl-ms", "5", "--max-tokens", "32"],
        &dir.join("sim.log"),
    )?;
    let port = free_port()?;
    std::fs::write(dir.join("token"), "soak-token-0123456789abcdef")?;
    let duration_s = (minutes * 60.0).round();
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: soak
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: 10}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {url}/v1/chat/completions
    model: sim-model
workloads:
  - name: soak
    perf:
      target: sim
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 32, max_prompt_length: 64}}
      max_tokens: 32
      sqlite: true
      stages:
        - {{rate: {rate}, arrival: constant, parallel: 1024, duration_s: {duration_s}}}
outputs: {{dir: out}}
"#
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let mut agents = Vec::new();
    for i in 1..=3 {
        agents.push(start_agent(
            dir,
            port,
            &format!("soak-{i}"),
            &dir.join("token"),
        )?);
    }
    let mut tracks: Vec<Track> = std::iter::once(&coord)
        .chain(agents.iter())
        .chain(std::iter::once(&sim))
        .enumerate()
        .map(|(i, p)| Track {
            name: if p.name == "agent" {
                format!("agent-{i}")
            } else {
                p.name.clone()
            },
            pid: p.pid(),
            rss_kib: Vec::new(),
            fds: Vec::new(),
        })
        .collect();
    let t0 = Instant::now();
    let limit = Duration::from_secs_f64(duration_s + 120.0);
    let code = loop {
        for t in &mut tracks {
            t.rss_kib.push(rss_kib(t.pid).unwrap_or(0));
            t.fds.push(fds(t.pid).unwrap_or(-1));
        }
        let waited = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(10)))?;
        if let Some(code) = waited {
            break code;
        }
        anyhow::ensure!(t0.elapsed() < limit, "the soak did not end in {limit:?}");
    };
    let summary = summaries(&dir.join("out"))
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code})"))?;
    let counts = Counts::read(&summary)?;
    let target_n = rate * duration_s;
    let sends = read_sends(&summary.with_file_name("requests.sqlite"))?;
    let timing = Timing::of(&sends);
    let rate_err = (timing.achieved - rate).abs() / rate;
    let mut ok =
        code == 0 && rate_err <= 0.005 && counts.failed == 0 && counts.total as f64 >= target_n;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Soak: {minutes} min open loop, constant arrivals at {rate} req/s, 3 agent processes, llm-sim (ttft 20 ms, itl 5 ms, 32 tokens).\n"
    );
    let _ = writeln!(
        md,
        "- requests: {} (target {target_n:.0}); failed {}; coordinator exit {code}",
        counts.total, counts.failed
    );
    let _ = writeln!(
        md,
        "- achieved rate, from the actual send times in requests.sqlite: {:.4} req/s, {:.4}% from target (bound 0.5%) — the sum over the {} agents' shards of (requests − 1) / (last send − first send); {} sends recorded",
        timing.achieved,
        rate_err * 100.0,
        timing.shards,
        sends.len()
    );
    let _ = writeln!(
        md,
        "- send lag (actual − scheduled send) over the run: p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        timing.all.p50_ms, timing.all.p99_ms, timing.all.p999_ms, timing.all.max_ms
    );
    let _ = writeln!(
        md,
        "\n| minute | scheduled | sent | lag p50 (ms) | lag p99 (ms) | lag max (ms) |\n|---|---|---|---|---|---|"
    );
    for m in &timing.minutes {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.2} | {:.2} | {:.2} |",
            m.minute, m.scheduled, m.sent, m.lag.p50_ms, m.lag.p99_ms, m.lag.max_ms
        );
    }
    let _ = writeln!(
        md,
        "\nPer minute of each agent's schedule (its offsets from its shard's start): requests scheduled in that minute, requests actually sent in it, and the lag of the requests scheduled in it."
    );
    let _ = writeln!(
        md,
        "\n| process | RSS after warm-up (MiB) | RSS at end (MiB) | RSS max (MiB) | fds after warm-up | fds at end | within bounds |\n|---|---|---|---|---|---|---|"
    );
    for t in &tracks {
        // the first samples cover start-up and connection pools filling: measure from 10% in
        let warm = (t.rss_kib.len() / 10)
            .max(1)
            .min(t.rss_kib.len().saturating_sub(1));
        let last = t.rss_kib.len().saturating_sub(2).max(warm);
        let (r0, r1) = (t.rss_kib[warm], t.rss_kib[last]);
        let (f0, f1) = (t.fds[warm], t.fds[last]);
        let rmax = t.rss_kib.iter().copied().max().unwrap_or(0);
        let within = r1.saturating_sub(r0) <= RSS_GROWTH_BOUND_KIB && f1 - f0 <= FD_GROWTH_BOUND;
        ok &= within;
        let _ = writeln!(
            md,
            "| {} | {:.1} | {:.1} | {:.1} | {f0} | {f1} | {} |",
            t.name,
            r0 as f64 / 1024.0,
            r1 as f64 / 1024.0,
            rmax as f64 / 1024.0,
            if within { "yes" } else { "**no**" }
        );
    }
    let _ = writeln!(
        md,
        "\nBounds: RSS growth ≤ {} MiB and fd growth ≤ {FD_GROWTH_BOUND} per process between the sample 10% into the run and the last one before shutdown. Samples: every 10 s.",
        RSS_GROWTH_BOUND_KIB / 1024
    );
    let mut csv = String::from("process,sample,rss_kib,fds\n");
    for t in &tracks {
        for (i, (r, f)) in t.rss_kib.iter().zip(&t.fds).enumerate() {
            let _ = writeln!(csv, "{},{i},{r},{f}", t.name);
        }
    }
    std::fs::write(dir.join("samples.csv"), csv)?;
    drop(agents);
    drop(sim);
    Ok((md, ok))
}

/// One measured request's send: its shard, scheduled and actual offsets from the shard's start (µs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Send {
    /// The shard (one per agent).
    pub shard: String,
    /// The schedule's offset.
    pub scheduled_us: u64,
    /// The actual send's offset.
    pub sent_us: u64,
}

/// The sends recorded in a stage's `requests.sqlite`.
pub fn read_sends(path: &Path) -> anyhow::Result<Vec<Send>> {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let mut q = db.prepare("SELECT shard, scheduled_us, sent_us FROM requests")?;
    let rows = q.query_map([], |r| {
        Ok(Send {
            shard: r.get(0)?,
            scheduled_us: r.get::<_, Option<i64>>(1)?.unwrap_or(0).max(0) as u64,
            sent_us: r.get::<_, i64>(2)?.max(0) as u64,
        })
    })?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

/// Lag quantiles, milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lag {
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Lag {
    fn of(mut lags_us: Vec<i64>) -> Lag {
        lags_us.sort_unstable();
        let q = |p: f64| -> f64 {
            if lags_us.is_empty() {
                return 0.0;
            }
            let i = ((lags_us.len() as f64 * p).ceil() as usize).clamp(1, lags_us.len()) - 1;
            lags_us[i] as f64 / 1000.0
        };
        Lag {
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: lags_us.last().map_or(0.0, |&l| l as f64 / 1000.0),
        }
    }
}

/// One minute of the schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Minute {
    /// 0-based.
    pub minute: u64,
    /// Requests scheduled in it.
    pub scheduled: u64,
    /// Requests actually sent in it.
    pub sent: u64,
    /// Lag of the requests scheduled in it.
    pub lag: Lag,
}

/// The soak's timing figures from the actual sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Σ over shards of (n − 1) / (last send − first send), req/s.
    pub achieved: f64,
    /// Shards seen.
    pub shards: usize,
    /// Lag over the whole run.
    pub all: Lag,
    /// Per minute.
    pub minutes: Vec<Minute>,
}

impl Timing {
    /// Computes the figures. Shards have their own clocks (each agent's start), so the rate is
    /// summed over shards, each measured on its own clock.
    pub fn of(sends: &[Send]) -> Timing {
        let mut spans: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
        let mut minutes: BTreeMap<u64, (u64, u64, Vec<i64>)> = BTreeMap::new();
        let mut all = Vec::with_capacity(sends.len());
        for s in sends {
            let e = spans.entry(s.shard.as_str()).or_insert((u64::MAX, 0, 0));
            e.0 = e.0.min(s.sent_us);
            e.1 = e.1.max(s.sent_us);
            e.2 += 1;
            let lag = s.sent_us as i64 - s.scheduled_us as i64;
            all.push(lag);
            let m = minutes.entry(s.scheduled_us / 60_000_000).or_default();
            m.0 += 1;
            m.2.push(lag);
            minutes.entry(s.sent_us / 60_000_000).or_default().1 += 1;
        }
        let achieved = spans
            .values()
            .filter(|(first, last, n)| *n > 1 && last > first)
            .map(|(first, last, n)| (n - 1) as f64 / ((last - first) as f64 / 1e6))
            .sum();
        Timing {
            achieved,
            shards: spans.len(),
            all: Lag::of(all),
            minutes: minutes
                .into_iter()
                .map(|(minute, (scheduled, sent, lags))| Minute {
                    minute,
                    scheduled,
                    sent,
                    lag: Lag::of(lags),
                })
                .collect(),
        }
    }
}

/// VmRSS of `pid`, KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Open file descriptors of `pid`.
fn fds(pid: u32) -> Option<i64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_comes_from_the_send_times_not_the_count() {
        // two shards at 10 req/s each for 2 minutes; the second one's sends run 1% slow
        let mut sends = Vec::new();
        for i in 0..1200u64 {
            let at = i * 100_000;
            sends.push(Send {
                shard: "a".into(),
                scheduled_us: at,
                sent_us: at + 500,
            });
            sends.push(Send {
                shard: "b".into(),
                scheduled_us: at,
                sent_us: at + at / 100,
            });
        }
        let t = Timing::of(&sends);
        assert_eq!(t.shards, 2);
        assert!(
            (t.achieved - (10.0 + 10.0 / 1.01)).abs() < 1e-6,
            "{}",
            t.achieved
        );
        assert_eq!(
            t.minutes.len(),
            3,
            "the slow shard's last sends spill into minute 2"
        );
        assert_eq!(t.minutes[0].scheduled, 1200);
        assert_eq!(t.minutes[2].scheduled, 0);
        assert!(t.minutes[2].sent > 0);
        assert!((t.all.max_ms - 1199.0).abs() < 1e-9, "{}", t.all.max_ms);
        assert!((t.minutes[0].lag.p50_ms - 0.5).abs() < 1e-9);
    }
}
