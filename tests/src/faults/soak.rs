//! The soak: a long open-loop run at a fixed rate against llm-sim with three agent processes.
//! Every 10 s the RSS and open file descriptors of each process are sampled; at the end the
//! achieved rate is compared with the target and memory/fd growth with their bounds.

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
      sqlite: false
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
    let achieved = counts.total as f64 / duration_s;
    let rate_err = (achieved - rate).abs() / rate;
    let mut ok = code == 0 && rate_err <= 0.005 && counts.failed == 0;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Soak: {minutes} min open loop, constant arrivals at {rate} req/s, 3 agent processes, llm-sim (ttft 20 ms, itl 5 ms, 32 tokens).\n"
    );
    let _ = writeln!(
        md,
        "- requests: {} (target {target_n:.0}); achieved {achieved:.3} req/s, {:.3}% from target (bound 0.5%); failed {}; coordinator exit {code}",
        counts.total,
        rate_err * 100.0,
        counts.failed
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
