//! End to end: a collection built from a three-group schema over today's benchmarks (real
//! record slices; C-Eval read from ../shared), evaluated as `data_collection` on two agents
//! against llm-sim in answer-key mode: every per-dataset, per-task, per-tag and per-category
//! number of the collection report is the one the simulator was set to produce.

use std::collections::BTreeMap;
use std::path::PathBuf;

use swarm_coordinator::cluster::ClusterConfig;
use swarm_coordinator::collection::build::build_collection;
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::{KeyEntry, build, prompt_sha256};
use swarm_eval::collection::benchmark::original_of;
use swarm_eval::collection::{SamplerKind, write_lines};
use swarm_eval::report::round4;
use swarm_eval::{DatasetArgs, registry};
use swarm_tests::keyed_eval::{keyed_sim, local_cluster, sim_job};
use swarm_tests::schemas::read_json;
use swarm_tests::{eval_fixture, start_sim};
use tokio_util::sync::CancellationToken;

fn fixture(rel: &str) -> PathBuf {
    eval_fixture(rel).canonicalize().expect("fixture exists")
}

/// The collection: EvalScope's defaults, but MMLU-Pro zero-shot (its 5-shot examples, the
/// validation split, are not in the fixtures); C-Eval 5-shot from ../shared when it is there.
fn schema_text() -> String {
    let ceval = &swarm_tests::shared_data().join("ceval/ceval_val.jsonl");
    let chinese = if ceval.exists() {
        format!(
            "      - {{name: ceval, task_type: exam, tags: [zh], args: {{local_path: {}}}}}\n",
            ceval.display()
        )
    } else {
        swarm_tests::skipped(
            "e2e::eval_collection (its C-Eval part)",
            &format!("{} is absent", ceval.display()),
            false,
        );
        String::new()
    };
    format!(
        "name: mix\ndatasets:\n  - name: English\n    weight: 1\n    datasets:\n      - {{name: mmlu_pro, task_type: exam, tags: [en], args: {{local_path: {}, few_shot_num: 0}}}}\n      - {{name: mmlu_redux, task_type: exam, tags: [en], args: {{local_path: {}}}}}\n  - name: Chinese\n    weight: 1\n    datasets:\n      - {{name: iquiz, task_type: exam, tags: [zh], args: {{local_path: {}}}}}\n{chinese}  - name: Math\n    weight: 2\n    datasets:\n      - {{name: gsm8k, task_type: math, tags: [en], args: {{local_path: {}}}}}\n      - {{name: math_500, task_type: math, tags: [en, hard], args: {{local_path: {}}}}}\n      - {{name: aime24, task_type: math, tags: [en, hard], args: {{local_path: {}}}}}\n      - {{name: aime25, task_type: math, tags: [en, hard], args: {{local_path: {}}}}}\n",
        fixture("mmlu_pro/test.jsonl").display(),
        fixture("mmlu_redux/test.jsonl").display(),
        fixture("iquiz/iquiz.jsonl").display(),
        fixture("gsm8k/test.jsonl").display(),
        fixture("math_500/test.jsonl").display(),
        fixture("aime24/test.jsonl").display(),
        fixture("aime25/test.jsonl").display(),
    )
}

#[test]
fn an_unknown_dataset_name_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "name: x\ndatasets:\n  - name: g\n    datasets:\n      - {name: gsm8k}\n      - {name: humaneval_plus_plus}\n",
    )
    .expect("write");
    let err = build_collection(&path, Some(dir.path()), SamplerKind::Weighted, 10, 1)
        .expect_err("unknown name");
    let text = format!("{err:#}");
    assert!(
        text.contains("bad.yaml: field `datasets[0].datasets[1].name`")
            && text.contains("unknown benchmark \"humaneval_plus_plus\""),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_collection_evaluates_to_the_simulated_scores() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let schema = tmp.path().join("mix.yaml");
    std::fs::write(&schema, schema_text()).expect("schema");
    let (lines, shares) =
        build_collection(&schema, None, SamplerKind::Weighted, 40, 42).expect("collection builds");
    assert_eq!(lines.len(), 40);
    assert!(
        shares.iter().all(|s| s.taken <= s.available && s.taken > 0),
        "{shares:?}"
    );
    let mix = tmp.path().join("mix.jsonl");
    write_lines(&mix, &lines).expect("written");

    // the answer key, built per original benchmark (each answers in its own format)
    let dc = registry::benchmark("data_collection").expect("registered");
    let dargs = DatasetArgs {
        local_path: Some(mix.clone()),
        filters: serde_json::from_value(serde_json::json!({"remove_until": "</think>"}))
            .expect("filters"),
        ..Default::default()
    };
    let samples = dc.load(&dargs).expect("collection loads");
    assert_eq!(samples.len(), 40);
    let mut entries: Vec<KeyEntry> = Vec::new();
    for s in &samples {
        let (name, inner) = original_of(s).expect("collection sample");
        let bench = registry::benchmark(&name).expect("known");
        entries.extend(build(&[inner], bench.as_ref(), true).expect("key entry"));
    }
    let (cfg, key) = keyed_sim(tmp.path(), &entries, 11, 0.6, (1.0, 0.0));
    let sim = start_sim(cfg).await;

    let cancel = CancellationToken::new();
    let (mut cluster, agents) = local_cluster(ClusterConfig::local("collection", 2), &cancel).await;
    let dataset_args = BTreeMap::from([("data_collection".to_owned(), dargs)]);
    let job = sim_job("mix", &sim, dataset_args, true, 8);
    let root = tmp.path().join("eval");
    run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
        .await
        .expect("eval runs");
    cluster.shutdown().await;
    sim.shutdown().await;

    // expected numbers, computed from the key and the lines alone
    let mut by_dataset: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut by_task: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_tag: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut by_group: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut all = Vec::new();
    for (s, l) in samples.iter().zip(&lines) {
        let right = key
            .answers_correctly(&prompt_sha256(s).expect("user message"))
            .expect("keyed");
        let v = if right { 1.0 } else { 0.0 };
        all.push(v);
        by_dataset
            .entry((l.task_type.clone(), l.dataset_name.clone()))
            .or_default()
            .push(v);
        by_task.entry(l.task_type.clone()).or_default().push(v);
        for t in &l.tags {
            by_tag.entry(t.clone()).or_default().push(v);
        }
        by_group.entry(l.categories[1].clone()).or_default().push(v);
    }
    let mean = |v: &[f64]| round4(v.iter().sum::<f64>() / v.len() as f64);
    let detailed = read_json(&root.join("reports/sim-model/collection_detailed_report.json"));
    let rows = |level: &str| detailed[level].as_array().expect("rows").clone();
    let dataset_rows = rows("dataset_level");
    assert_eq!(dataset_rows.len(), by_dataset.len());
    for ((task, dataset), v) in &by_dataset {
        let row = dataset_rows
            .iter()
            .find(|r| r["dataset_name"] == dataset.as_str())
            .unwrap_or_else(|| panic!("{dataset} missing: {detailed}"));
        assert_eq!(row["task_type"], task.as_str());
        assert_eq!(row["count"].as_u64(), Some(v.len() as u64), "{dataset}");
        assert_eq!(
            row["micro_avg."].as_f64(),
            Some(mean(v)),
            "{dataset}: {row}"
        );
    }
    let counts: Vec<u64> = dataset_rows
        .iter()
        .map(|r| r["count"].as_u64().expect("count"))
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by count: {counts:?}"
    );
    for (task, v) in &by_task {
        let row = rows("task_level")
            .into_iter()
            .find(|r| r["task_type"] == task.as_str())
            .expect("task row");
        assert_eq!(row["micro_avg."].as_f64(), Some(mean(v)), "{task}");
        assert_eq!(row["count"].as_u64(), Some(v.len() as u64));
    }
    for (tag, v) in &by_tag {
        let row = rows("tag_level")
            .into_iter()
            .find(|r| r["tags"] == tag.as_str())
            .expect("tag row");
        assert_eq!(row["micro_avg."].as_f64(), Some(mean(v)), "{tag}");
    }
    for (group, v) in &by_group {
        let row = rows("category_level")
            .into_iter()
            .find(|r| r["category1"] == group.as_str())
            .expect("category row");
        assert_eq!(row["category0"], "mix");
        assert_eq!(row["micro_avg."].as_f64(), Some(mean(v)), "{group}");
    }
    let report = read_json(&root.join("reports/sim-model/data_collection.json"));
    assert_eq!(report["score"].as_f64(), Some(mean(&all)));
    assert_eq!(report["num"].as_u64(), Some(40));
    // the weights of the Math group (weight 2 of 4) sum to one half
    let math_weight: f64 = lines
        .iter()
        .filter(|l| l.categories[1] == "Math")
        .map(|l| l.weight)
        .sum();
    assert!((math_weight - 0.5).abs() < 1e-9, "{math_weight}");
}
