//! `coordinator run --metrics-listen`: a plan of three stages on three local agents, its
//! `/metrics` scraped over loopback every 100 ms while it runs. The counters move during each
//! stage (not only at its end), never decrease, and end equal to the stage files; the TTFT and
//! latency histograms count every success.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use swarm_coordinator::perf::stage::ProgressMode;
use swarm_coordinator::run::{RunOptions, run_parsed};
use swarm_tests::schemas::read_json;
use tokio_util::sync::CancellationToken;

const PLAN: &str = "version: 1
name: live
agents: {local_agents: 3}
targets:
  - name: sim
    sim: {latency: {ttft_ms: 4, itl_ms: 1}, faults: {rate_500: 0.1}}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}
      max_tokens: 8
      stages:
        - {parallel: 3, duration_s: 2.5}
        - {parallel: 6, duration_s: 2.5}
        - {parallel: 3, number: 240}
";

/// One scrape: `name{labels}` → value.
type Scrape = BTreeMap<String, f64>;

fn parse(text: &str) -> Scrape {
    let mut out = Scrape::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad exposition line {line:?}"));
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        assert!(
            out.insert(series.to_string(), v).is_none(),
            "series twice: {series}"
        );
    }
    out
}

fn labels(stage: &str) -> String {
    format!("workload=\"chat\",stage=\"{stage}\"")
}

fn get(s: &Scrape, series: &str) -> f64 {
    *s.get(series)
        .unwrap_or_else(|| panic!("{series} missing from the scrape"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_counters_follow_each_stage_and_end_equal_to_its_files() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = swarm_coordinator::plan::parse_plan(
        PLAN,
        Path::new("plan.yaml"),
        &std::collections::HashMap::<String, String>::new(),
    )
    .expect("plan parses");
    let port = swarm_tests::free_port();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    let options = RunOptions {
        outputs: tmp.path().to_path_buf(),
        progress: ProgressMode::Quiet,
        resume: None,
        run_dir: None,
        metrics_listen: Some(addr),
        sandbox: Default::default(),
    };
    let done = Arc::new(AtomicBool::new(false));
    let scraper = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            let url = format!("http://{addr}/metrics");
            let mut scrapes: Vec<Scrape> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(120);
            while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
                if let Ok(r) = client.get(&url).send().await
                    && r.status().is_success()
                    && let Ok(text) = r.text().await
                {
                    scrapes.push(parse(&text));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            scrapes
        })
    };
    let run = run_parsed(
        &plan,
        PLAN,
        Path::new("."),
        &options,
        &CancellationToken::new(),
    )
    .await
    .expect("plan runs");
    done.store(true, Ordering::SeqCst);
    let scrapes = scraper.await.expect("scraper");
    assert!(scrapes.len() > 20, "only {} scrapes", scrapes.len());

    // the stages as their files tell
    let mut stages = Vec::new();
    for entry in std::fs::read_dir(run.join("perf/chat")).expect("perf/chat") {
        let dir = entry.expect("entry").path();
        if !dir.join("benchmark_summary.json").is_file() {
            continue; // benchmark_args.json
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        stages.push((name, read_json(&dir.join("benchmark_summary.json"))));
    }
    stages.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(stages.len(), 3, "{stages:?}");

    // counters and histogram series never go down between scrapes
    for pair in scrapes.windows(2) {
        for (series, before) in &pair[0] {
            let monotonic = series.starts_with("swarm_requests")
                || series.starts_with("swarm_completion_tokens_total")
                || series.starts_with("swarm_ttft_seconds")
                || series.starts_with("swarm_latency_seconds");
            if let Some(after) = pair[1].get(series)
                && monotonic
            {
                assert!(after >= before, "{series} went from {before} to {after}");
            }
        }
    }

    let last = scrapes.last().expect("a scrape");
    for (name, summary) in &stages {
        let l = labels(name);
        let n = |k: &str| summary[k].as_u64().unwrap_or_else(|| panic!("{name}: {k}"));
        let total = n("Total Requests");
        let failed = n("Failed Requests");
        let success = n("Success Requests");
        assert!(total > 50 && failed > 0 && success > 0, "{name}: {summary}");

        // the last scrape (the run waits for one after its last merge) equals the files
        let total_series = format!("swarm_requests_total{{{l}}}");
        assert_eq!(get(last, &total_series), total as f64, "{name} total");
        assert_eq!(
            get(last, &format!("swarm_requests_failed_total{{{l}}}")),
            failed as f64,
            "{name} failed"
        );

        // it counted up while the stage ran: some scrape saw it between 0 and the end
        let seen: Vec<f64> = scrapes
            .iter()
            .filter_map(|s| s.get(&total_series).copied())
            .collect();
        assert_eq!(seen.first(), Some(&0.0), "{name} starts at 0: {seen:?}");
        if name.contains("duration") {
            let between = seen
                .iter()
                .filter(|&&v| v > 0.0 && v < total as f64)
                .count();
            assert!(between >= 3, "{name} rose during the stage: {seen:?}");
        }

        // histograms: every success counted once, buckets cumulative up to +Inf = _count
        for (metric, avg_key, unit) in [
            ("swarm_latency_seconds", "Avg Latency (s)", 1.0),
            ("swarm_ttft_seconds", "Avg TTFT (ms)", 1e-3),
        ] {
            let count = get(last, &format!("{metric}_count{{{l}}}"));
            assert_eq!(count, success as f64, "{name} {metric}_count");
            assert_eq!(
                get(last, &format!("{metric}_bucket{{{l},le=\"+Inf\"}}")),
                count,
                "{name} {metric} +Inf"
            );
            let prefix = format!("{metric}_bucket{{{l},le=\"");
            let mut buckets: Vec<(f64, f64)> = last
                .iter()
                .filter_map(|(k, v)| {
                    let le = k.strip_prefix(&prefix)?.strip_suffix("\"}")?;
                    (le != "+Inf").then(|| (le.parse::<f64>().expect("le"), *v))
                })
                .collect();
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(buckets.len() >= 10, "{name} {metric}: {buckets:?}");
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{name} {metric} cumulative: {buckets:?}"
            );
            assert!(
                buckets.iter().any(|&(_, v)| v > 0.0 && v <= count),
                "{name} {metric}: some finite bucket holds values: {buckets:?}"
            );
            let sum = get(last, &format!("{metric}_sum{{{l}}}"));
            let want = summary[avg_key].as_f64().expect("avg") * unit;
            assert!(
                (sum / count - want).abs() <= 6e-5 * unit,
                "{name} {metric} mean {} vs {avg_key} {want}",
                sum / count
            );
        }
    }
}
