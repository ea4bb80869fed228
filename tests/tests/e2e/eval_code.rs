//! End to end: code benchmarks (humaneval, live_code_bench) against llm-sim in answer-key mode
//! at accuracy 0.5, on two local agents: the agents run each answer in the code sandbox, and each
//! report shows exactly the share of samples the simulator answered with working code, and
//! `--rescore` (the coordinator's sandbox) reproduces the reports.

use std::collections::BTreeMap;

use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::Sample;
use swarm_eval::answer_key::{KeyEntry, prompt_sha256};
use swarm_tests::keyed_eval::{keyed_score, keyed_sim, load, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture as fixture, start_sim};
use tokio_util::sync::CancellationToken;

fn fenced(code: &str) -> String {
    format!("Here is the code.\n```python\n{code}\n```\n")
}

/// Working and broken answers: HumanEval's canonical solution (after the prompt) and a stub;
/// for the first three LiveCodeBench fixture problems (standard input) hand-written solutions.
fn entry(sample: &Sample) -> KeyEntry {
    let (correct, wrong) = if sample.benchmark == "humaneval" {
        let prompt = sample.metadata["prompt"].as_str().expect("prompt");
        (
            fenced(&format!("{prompt}{}", sample.gold)),
            fenced(&format!("{prompt}    return None")),
        )
    } else {
        let solutions = [
            "t = int(input())\nfor _ in range(t):\n    s = input().strip()\n    print('YES' if sum(a != b for a, b in zip(s, 'abc')) <= 2 else 'NO')",
            "t = int(input())\nfor _ in range(t):\n    input()\n    a = sorted(map(int, input().split()))\n    a[0] += 1\n    p = 1\n    for x in a:\n        p *= x\n    print(p)",
            "data = sys.stdin.read().split()\nt, i = int(data[0]), 1\nfor _ in range(t):\n    n, k, s = int(data[i]), int(data[i + 1]), data[i + 2]\n    i += 3\n    ops = j = 0\n    while j < n:\n        if s[j] == 'B':\n            ops, j = ops + 1, j + k\n        else:\n            j += 1\n    print(ops)",
        ];
        let index: usize = sample
            .id
            .rsplit('_')
            .next()
            .and_then(|i| i.parse().ok())
            .expect("index");
        (fenced(solutions[index]), fenced("print('NO')"))
    };
    KeyEntry {
        prompt_sha256: prompt_sha256(sample).expect("user message"),
        correct,
        wrong,
        sample_id: sample.id.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_benchmarks_are_scored_by_the_agents_sandbox() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dataset_args = BTreeMap::new();
    let mut samples_of = BTreeMap::new();
    let mut entries = Vec::new();
    for (name, path, limit) in [
        ("humaneval", fixture("humaneval"), 8),
        (
            "live_code_bench",
            fixture("live_code_bench/rllm_livecodebench_test_publictests.json"),
            3,
        ),
    ] {
        let (args, samples) = load(name, path, limit);
        entries.extend(samples.iter().map(entry));
        samples_of.insert(name, samples);
        dataset_args.insert(name.to_string(), args);
    }
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 11, 0.5, (2.0, 1.0));
    let sim = start_sim(cfg).await;

    let cancel = CancellationToken::new();
    let (mut cluster, agents) = local_cluster(ClusterConfig::local("code", 2), &cancel).await;
    let job = sim_job("code", &sim, dataset_args, true, 4);
    let root = tmp.path().join("eval");
    run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
        .await
        .expect("the eval completes");
    cluster.shutdown().await;
    sim.shutdown().await;

    // `--rescore` runs the saved answers again in the coordinator's own sandbox: same reports
    let before: Vec<serde_json::Value> = samples_of
        .keys()
        .map(|name| read_json(&root.join(format!("reports/sim-model/{name}.json"))))
        .collect();
    for name in samples_of.keys() {
        std::fs::remove_file(root.join(format!("reports/sim-model/{name}.json"))).expect("rm");
    }
    run_job(None, &[], &job, &root, true, &cancel)
        .await
        .expect("the re-score completes");
    let after: Vec<serde_json::Value> = samples_of
        .keys()
        .map(|name| read_json(&root.join(format!("reports/sim-model/{name}.json"))))
        .collect();
    assert_eq!(before, after);

    for (name, samples) in &samples_of {
        let (correct, expected) = keyed_score(&key, samples);
        assert!(
            correct > 0 && correct < samples.len(),
            "{name}: a mix of answers"
        );
        let report = read_json(&root.join(format!("reports/sim-model/{name}.json")));
        assert_eq!(report["score"].as_f64(), Some(expected), "{name}: {report}");
        let names: Vec<&str> = report["metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .filter_map(|m| m["name"].as_str())
            .collect();
        assert_eq!(names, ["mean_acc", "mean_acc_pass@1"], "{name}");
    }
}
