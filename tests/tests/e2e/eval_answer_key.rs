//! End to end: every benchmark (slices of real records) against llm-sim in answer-key mode at
//! accuracy 0.7, on three agents with one killed mid-run: each report shows exactly the score the
//! simulator was set to produce, and every sample is stored exactly once.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::build;
use swarm_eval::registry;
use swarm_tests::keyed_eval::{keyed_score, keyed_sim, load, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

fn benchmarks() -> Vec<(&'static str, PathBuf)> {
    let mut v = vec![
        ("gsm8k", fixture("gsm8k/test.jsonl")),
        ("math_500", fixture("math_500/test.jsonl")),
        ("aime24", fixture("aime24/test.jsonl")),
        ("aime25", fixture("aime25/test.jsonl")),
        ("mmlu_pro", fixture("mmlu_pro/test.jsonl")),
        ("mmlu_redux", fixture("mmlu_redux/test.jsonl")),
        ("iquiz", fixture("iquiz/iquiz.jsonl")),
        ("gpqa_diamond", fixture("gpqa/gpqa_diamond.csv")),
    ];
    // C-Eval may not be copied into the repository (CC-BY-NC-SA): read it where it lives
    let ceval = swarm_tests::shared_data().join("ceval/ceval_val.jsonl");
    if ceval.exists() {
        v.push(("ceval", ceval));
    } else {
        swarm_tests::skipped(
            "e2e::eval_answer_key (its C-Eval part)",
            &format!("{} is absent", ceval.display()),
            false,
        );
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_key_eval_on_three_agents_with_one_killed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dataset_args = BTreeMap::new();
    let mut entries = Vec::new();
    let mut samples_of = BTreeMap::new();
    for (name, path) in benchmarks() {
        let bench = registry::benchmark(name).expect("known benchmark");
        let (args, samples) = load(name, path, 3);
        assert!(!samples.is_empty(), "{name}");
        entries.extend(
            build(&samples, bench.as_ref(), false).unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        samples_of.insert(name, samples);
        dataset_args.insert(name.to_string(), args);
    }
    // what the simulator will answer, computed independently of the run
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 5, 0.7, (5.0, 4.0));
    let sim = start_sim(cfg).await;

    let cancel = CancellationToken::new();
    let mut ccfg = ClusterConfig::local("answer-key", 3);
    ccfg.heartbeat_ms = 100;
    ccfg.heartbeat_timeout = Duration::from_secs(2);
    let (mut cluster, agents) = local_cluster(ccfg, &cancel).await;
    let job = sim_job("ak", &sim, dataset_args, true, 6);
    let root = tmp.path().join("eval");
    let local = cluster.local_agents();
    let killer = async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(local.kill(1));
    };
    let t0 = std::time::Instant::now();
    let (r, ()) = tokio::join!(
        run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel),
        killer
    );
    // the kill must land mid-run for this test to mean anything
    assert!(
        t0.elapsed() > Duration::from_millis(600),
        "the eval finished before the kill: {:?}",
        t0.elapsed()
    );
    r.expect("the eval completes without the killed agent");
    cluster.shutdown().await;
    sim.shutdown().await;

    for (name, samples) in &samples_of {
        let (_, expected) = keyed_score(&key, samples);
        let report = read_json(&root.join(format!("reports/sim-model/{name}.json")));
        assert_eq!(report["score"].as_f64(), Some(expected), "{name}: {report}");
        assert_eq!(
            report["metrics"][0]["num"].as_u64(),
            Some(samples.len() as u64),
            "{name}"
        );
        // every sample stored exactly once across the per-subset prediction files
        let mut ids = Vec::new();
        for f in std::fs::read_dir(root.join("predictions/sim-model")).expect("predictions") {
            let f = f.expect("entry").path();
            let stem = f
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if !stem.starts_with(&format!("{name}_")) {
                continue;
            }
            for line in std::fs::read_to_string(&f).expect("read").lines() {
                let v: serde_json::Value = serde_json::from_str(line).expect("json line");
                ids.push(
                    v["swarm"]["sample_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(
            (ids.len(), distinct.len()),
            (samples.len(), samples.len()),
            "{name}: {ids:?}"
        );
    }
    let total: usize = samples_of.values().map(Vec::len).sum();
    assert_eq!(key.len(), total, "every sample is a distinct question");
    let overall = key.correct_count() as f64 / total as f64;
    assert!(
        (overall - 0.7).abs() <= 0.5 / total as f64 + 1e-9,
        "exact mode answers round(0.7 × N) correctly: {overall}"
    );
}
