//! `coordinator perf --multi-turn` over two agents against llm-sim's prefix cache: `--number`
//! conversations, each on one agent, turn k carrying the answers before it (so the simulator's
//! known cached tokens come back exactly), later turns faster than first ones, and the open
//! loop starting conversations on a schedule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use llm_sim::SimConfig;
use rusqlite::Connection;
use serde_json::Value;
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::subdirs;
use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// The one run folder and its one stage folder under `out`.
fn only_stage(out: &Path) -> (PathBuf, PathBuf) {
    let runs = subdirs(out);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let workloads = subdirs(&runs[0].join("perf"));
    assert_eq!(workloads.len(), 1, "{workloads:?}");
    let stages = subdirs(&workloads[0]);
    assert_eq!(stages.len(), 1, "{stages:?}");
    (runs[0].clone(), stages[0].clone())
}

/// A simulator whose time to first token is 2 ms + 1 ms per uncached prompt token, with a
/// prefix cache.
fn cached_sim() -> SimConfig {
    let mut cfg = SimConfig::instant();
    cfg.latency.ttft_ms = llm_sim::Dist::fixed(2.0);
    cfg.latency.ttft_per_prompt_token_us = 1000.0;
    cfg.prefix_cache = Some(llm_sim::PrefixCacheConfig {
        max_entries: 10_000,
    });
    cfg
}

/// One request's row: (shard, conversation, turn, prompt, completion, cached, ttft_us,
/// scheduled_us).
type Row = (String, i64, i64, i64, i64, i64, Option<i64>, Option<i64>);

fn rows(stage: &Path) -> Vec<Row> {
    let db = Connection::open(stage.join("requests.sqlite")).expect("sqlite");
    let mut stmt = db
        .prepare(
            "SELECT shard, conversation, turn, prompt_tokens, completion_tokens, cached_tokens, \
             ttft_us, scheduled_us FROM requests WHERE error IS NULL ORDER BY shard, conversation, turn",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })
    .expect("query")
    .map(|r| r.expect("row"))
    .collect()
}

/// Conversations as their turns' rows, keyed by (shard, conversation).
fn conversations(rows: &[Row]) -> BTreeMap<(String, i64), Vec<Row>> {
    let mut out: BTreeMap<(String, i64), Vec<Row>> = BTreeMap::new();
    for r in rows {
        out.entry((r.0.clone(), r.1)).or_default().push(r.clone());
    }
    out
}

/// Every later turn's cached tokens are the simulator's known truth: the previous turn's prompt
/// and its answer (the history sent back verbatim), nothing for a first turn.
fn assert_exact_cache(convs: &BTreeMap<(String, i64), Vec<Row>>) {
    for (key, turns) in convs {
        let idx: Vec<i64> = turns.iter().map(|r| r.2).collect();
        let want: Vec<i64> = (0..turns.len() as i64).collect();
        assert_eq!(idx, want, "{key:?}: turns in order, none missing");
        assert_eq!(turns[0].5, 0, "{key:?}: a first turn hits nothing");
        for w in turns.windows(2) {
            assert_eq!(w[1].5, w[0].3 + w[0].4, "{key:?}: turn {}", w[1].2);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_stay_on_one_agent_and_report_the_sims_cached_tokens() {
    let sim = start_sim(cached_sim()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    // 6 conversations of 3 turns: a long first turn of 200 + i words (distinct per
    // conversation), then two short ones
    let data = tmp.path().join("conversations.jsonl");
    let lines: Vec<String> = (0..6)
        .map(|i| {
            let first: Vec<String> = (0..200 + i).map(|w| format!("c{i}w{w}")).collect();
            serde_json::json!([
                {"role": "user", "content": first.join(" ")},
                {"role": "assistant", "content": "a reference answer, dropped"},
                {"role": "user", "content": "and then what"},
                {"role": "assistant", "content": "dropped too"},
                {"role": "user", "content": "one more thing"},
            ])
            .to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n")).expect("dataset");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--agents",
        "2",
        "--multi-turn",
        "--dataset",
        "custom_multi_turn",
        "--dataset-path",
        data.to_str().expect("utf8"),
        "--parallel",
        "2",
        "--number",
        "6",
        "--max-tokens",
        "4",
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "chat",
    ];
    let cli = Cli::try_parse_from(argv).expect("flags parse");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    sim.shutdown().await;
    let (run, stage) = only_stage(&out);

    let all = rows(&stage);
    assert_eq!(all.len(), 18, "6 conversations × 3 turns, all successful");
    let convs = conversations(&all);
    assert_eq!(convs.len(), 6, "--number counts conversations");
    // each (shard, conversation) holds one conversation whole: its first turn's distinct length
    let firsts: BTreeSet<i64> = convs.values().map(|t| t[0].3).collect();
    assert_eq!(
        firsts,
        (200..206).collect(),
        "every conversation once, whole"
    );
    assert_exact_cache(&convs);
    // the numbers: turn 2 = 200+i words + 4 answer words + 3, of which 204+i cached
    for turns in convs.values() {
        let p0 = turns[0].3;
        assert_eq!((turns[1].3, turns[1].5), (p0 + 7, p0 + 4));
        assert_eq!((turns[2].3, turns[2].5), (p0 + 14, p0 + 11));
    }
    // each shard is one agent's, and both agents ran conversations
    let breakdown = read_json(&stage.join("breakdown.json"));
    let agents: BTreeSet<String> = breakdown["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .filter(|s| all.iter().any(|r| s["shard"] == r.0.as_str()))
        .map(|s| s["agent"].as_str().expect("agent").to_string())
        .collect();
    assert_eq!(agents.len(), 2, "conversations on both agents: {agents:?}");

    // EvalScope's summary keys, from the same records
    let summary = read_json(&stage.join("benchmark_summary.json"));
    assert_eq!(summary["Total Requests"], 18);
    assert!(
        swarm_tests::schemas::violations("benchmark_summary.schema.json", &summary).is_empty(),
        "benchmark_summary.json follows its published schema"
    );
    assert_eq!(summary["Avg Turns/Request"], 2.0);
    let cached: i64 = all.iter().map(|r| r.5).sum();
    let prompt: i64 = all.iter().map(|r| r.3).sum();
    let rate = summary["KV Cache Hit Rate (%)"].as_f64().expect("hit rate");
    let want = (cached as f64 * 100.0 / prompt as f64 * 1e4).round() / 1e4;
    assert_eq!(rate, want);
    assert!((60.0..70.0).contains(&rate), "{rate}");
    let first = summary["Avg First-Turn TTFT (ms)"].as_f64().expect("first");
    let later = summary["Avg Subsequent-Turn TTFT (ms)"]
        .as_f64()
        .expect("later");
    // 2 ms + 1 ms × 200+ uncached tokens against 2 ms + 1 ms × 3: a gap wide enough for a
    // loaded test machine's noise
    assert!(first > later + 100.0, "first {first} ms, later {later} ms");

    // the per-turn file: TTFT of turns 2 and 3 below turn 1's, exact cache tokens
    let mt = swarm_coordinator::run_store::multi_turn::read(&stage)
        .expect("multi_turn.json parses")
        .expect("multi_turn.json written");
    assert_eq!(mt.conversations, 6);
    let by_turn: Vec<(u32, u64, u64)> = mt
        .turns
        .iter()
        .map(|t| (t.turn, t.requests, t.cached_tokens))
        .collect();
    let sum_cached = |k: i64| {
        all.iter()
            .filter(|r| r.2 == k)
            .map(|r| r.5 as u64)
            .sum::<u64>()
    };
    assert_eq!(
        by_turn,
        vec![(1, 6, 0), (2, 6, sum_cached(1)), (3, 6, sum_cached(2))]
    );
    let ttft: Vec<f64> = mt
        .turns
        .iter()
        .map(|t| t.avg_ttft_ms.expect("ttft"))
        .collect();
    assert!(
        ttft[1] < ttft[0] && ttft[2] < ttft[0],
        "TTFT by turn {ttft:?}"
    );
    assert_eq!(mt.summary.avg_first_turn_ttft_ms, Some(first));

    let report = swarm_coordinator::report::html::write_report(&run).expect("report");
    let html = std::fs::read_to_string(report).expect("report.html");
    assert!(
        html.contains("<table class=\"multi-turn\""),
        "per-turn table"
    );
    assert!(html.contains("TTFT by turn"), "TTFT by turn chart");
    assert!(html.contains("KV Cache Hit Rate (%)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_loop_starts_conversations_on_its_schedule() {
    let sim = start_sim(cached_sim()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let tokenizer = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../common/tests/fixtures/tokenizers/smollm2-135m"
    );
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--agents",
        "2",
        "--multi-turn",
        "--dataset",
        "random_multi_turn",
        "--tokenizer-path",
        tokenizer,
        "--min-turns",
        "2",
        "--max-turns",
        "3",
        "--min-prompt-length",
        "20",
        "--max-prompt-length",
        "40",
        "--rate",
        "20",
        "--number",
        "8",
        "--max-tokens",
        "4",
        "--think-time",
        "0.05",
        "--outputs-dir",
        out.to_str().expect("utf8"),
        "--name",
        "open",
    ];
    let cli = Cli::try_parse_from(argv).expect("flags parse");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
    sim.shutdown().await;
    let (_, stage) = only_stage(&out);
    let all = rows(&stage);
    let convs = conversations(&all);
    assert_eq!(convs.len(), 8, "8 conversation starts");
    let turns: usize = convs.values().map(Vec::len).sum();
    assert_eq!(all.len(), turns);
    assert!(
        convs.values().all(|t| (2..=3).contains(&t.len())),
        "--min-turns/--max-turns"
    );
    assert_exact_cache(&convs);
    for t in convs.values() {
        assert!(t[0].7.is_some(), "a conversation's start is scheduled");
        assert!(
            t[1..].iter().all(|r| r.7.is_none()),
            "later turns follow their answers"
        );
    }
    let summary: Value = read_json(&stage.join("benchmark_summary.json"));
    assert_eq!(summary["Request Rate (req/s)"], 20.0);
    assert_eq!(summary["Total Requests"], turns);
}
