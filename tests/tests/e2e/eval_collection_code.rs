//! End to end: a collection of HumanEval and GSM8K lines evaluated as `data_collection` on two
//! agents against llm-sim in answer-key mode: the agents run each HumanEval answer in the code
//! sandbox the task's `dataset_args.humaneval.sandbox_config` asks for (the collection entry's
//! names an interpreter that does not exist, so the wrong precedence fails every code line), each
//! dataset's score is the share the simulator answered right, and `--rescore` (the
//! coordinator's sandbox) reproduces the reports.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;
use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::collection::build::build_collection;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::{KeyEntry, build, prompt_sha256};
use swarm_eval::collection::benchmark::original_of;
use swarm_eval::collection::{SamplerKind, write_lines};
use swarm_eval::report::round4;
use swarm_eval::{DatasetArgs, Sample, registry};
use swarm_tests::keyed_eval::{keyed_sim, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture, start_sim};
use tokio_util::sync::CancellationToken;

fn fixture(rel: &str) -> PathBuf {
    eval_fixture(rel).canonicalize().expect("fixture exists")
}

fn fenced(code: &str) -> String {
    format!("Here is the code.\n```python\n{code}\n```\n")
}

/// HumanEval's canonical solution (after the prompt) or a stub; GSM8K's key as built.
fn entry(sample: &Sample) -> KeyEntry {
    let (name, inner) = original_of(sample).expect("collection sample");
    if name != "humaneval" {
        let bench = registry::benchmark(&name).expect("known");
        let mut entries = build(&[inner], bench.as_ref(), true).expect("key entry");
        return entries.pop().expect("one entry");
    }
    let prompt = inner.metadata["prompt"].as_str().expect("prompt");
    KeyEntry {
        prompt_sha256: prompt_sha256(sample).expect("user message"),
        correct: fenced(&format!("{prompt}{}", inner.gold)),
        wrong: fenced(&format!("{prompt}    return None")),
        sample_id: sample.id.clone(),
    }
}

fn reports(root: &std::path::Path) -> Vec<serde_json::Value> {
    ["data_collection.json", "collection_detailed_report.json"]
        .iter()
        .map(|f| read_json(&root.join("reports/sim-model").join(f)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn humaneval_lines_of_a_collection_run_in_the_agents_sandbox() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let schema = tmp.path().join("mix.yaml");
    std::fs::write(
        &schema,
        format!(
            "name: mix\ndatasets:\n  - name: Code\n    datasets:\n      - {{name: humaneval, task_type: code, args: {{local_path: {}, limit: 8}}}}\n  - name: Math\n    datasets:\n      - {{name: gsm8k, task_type: math, args: {{local_path: {}, limit: 6}}}}\n",
            fixture("humaneval").display(),
            fixture("gsm8k/test.jsonl").display(),
        ),
    )
    .expect("schema");
    let (lines, _) =
        build_collection(&schema, None, SamplerKind::Uniform, 100, 42).expect("collection builds");
    assert_eq!(lines.len(), 14);
    let mix = tmp.path().join("mix.jsonl");
    write_lines(&mix, &lines).expect("written");

    let sandbox = |v: serde_json::Value| serde_json::from_value(v).expect("sandbox_config");
    let dargs = DatasetArgs {
        local_path: Some(mix),
        sandbox_config: sandbox(json!({"python": "/nonexistent/python3"})),
        ..Default::default()
    };
    let samples = registry::benchmark("data_collection")
        .expect("registered")
        .load(&dargs)
        .expect("collection loads");
    let entries: Vec<KeyEntry> = samples.iter().map(entry).collect();
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 11, 0.5, (2.0, 1.0));
    let sim = start_sim(cfg).await;

    let cancel = CancellationToken::new();
    let (mut cluster, agents) = local_cluster(ClusterConfig::local("colcode", 2), &cancel).await;
    let humaneval = DatasetArgs {
        sandbox_config: sandbox(json!({"timeout_s": 20.0})),
        ..Default::default()
    };
    let dataset_args = BTreeMap::from([
        ("data_collection".to_owned(), dargs),
        ("humaneval".to_owned(), humaneval),
    ]);
    let mut job = sim_job("colcode", &sim, dataset_args, true, 4);
    job.datasets = vec!["data_collection".to_owned()];
    let root = tmp.path().join("eval");
    run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
        .await
        .expect("the eval completes");
    cluster.shutdown().await;
    sim.shutdown().await;

    // each dataset's score is the share the key answers right
    let mut by_dataset: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in &samples {
        let right = key
            .answers_correctly(&prompt_sha256(s).expect("user message"))
            .expect("keyed");
        let name = original_of(s).expect("collection sample").0;
        by_dataset
            .entry(name)
            .or_default()
            .push(if right { 1.0 } else { 0.0 });
    }
    let mean = |v: &[f64]| round4(v.iter().sum::<f64>() / v.len() as f64);
    let code = &by_dataset["humaneval"];
    assert_eq!(code.len(), 8);
    assert!(
        code.contains(&1.0) && code.contains(&0.0),
        "a mix of answers: {code:?}"
    );
    let before = reports(&root);
    let rows = before[1]["dataset_level"].as_array().expect("rows");
    for (name, v) in &by_dataset {
        let row = rows
            .iter()
            .find(|r| r["dataset_name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing: {}", before[1]));
        assert_eq!(row["count"].as_u64(), Some(v.len() as u64), "{name}");
        assert_eq!(row["micro_avg."].as_f64(), Some(mean(v)), "{name}: {row}");
    }
    let all: Vec<f64> = by_dataset.values().flatten().copied().collect();
    assert_eq!(
        before[0]["score"].as_f64(),
        Some(mean(&all)),
        "{}",
        before[0]
    );

    // `--rescore` runs the saved answers again in the coordinator's own sandbox: same reports
    for f in ["data_collection.json", "collection_detailed_report.json"] {
        std::fs::remove_file(root.join("reports/sim-model").join(f)).expect("rm");
    }
    run_job(None, &[], &job, &root, true, &cancel)
        .await
        .expect("the re-score completes");
    assert_eq!(before, reports(&root));
}
