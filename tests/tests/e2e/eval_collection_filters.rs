//! End to end: per-dataset filters of a collection. One schema holds IQuiz twice: IQ with
//! `remove_until: "</think>"`, EQ without filters. llm-sim answers from an answer key with
//! inline `<think>` reasoning whose first paragraph floats a wrong `答案：X`; IQuiz's parser takes
//! the first `答案：`, so the filtered IQ lines score what the key says and the raw EQ lines score
//! 0. Re-scored with the task's own `dataset_args.iquiz.filters`, EQ scores what the key says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use llm_sim::{AnswerKey, Dist, ReasoningMode, SimConfig, ThoughtsConfig};
use serde_json::Value;
use swarm_coordinator::cluster::{Cluster, ClusterConfig};
use swarm_coordinator::collection::build::build_collection;
use swarm_coordinator::eval::job::{EvalJob, gen_params};
use swarm_coordinator::eval::run::run_job;
use swarm_eval::answer_key::{KeyEntry, build, prompt_sha256, write_jsonl};
use swarm_eval::collection::benchmark::original_of;
use swarm_eval::collection::{SamplerKind, write_lines};
use swarm_eval::report::round4;
use swarm_eval::{DatasetArgs, registry};
use swarm_tests::schemas::read_json;
use swarm_tests::{sim_target, start_sim};
use tokio_util::sync::CancellationToken;

fn iquiz() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../eval/tests/fixtures/eval/iquiz/iquiz.jsonl")
        .canonicalize()
        .expect("fixture exists")
}

fn schema_text() -> String {
    let path = iquiz();
    format!(
        "name: mix\ndatasets:\n  - name: Filtered\n    datasets:\n      - {{name: iquiz, task_type: exam, args: {{local_path: {p}, subset_list: [IQ], filters: {{remove_until: \"</think>\"}}}}}}\n  - name: Raw\n    datasets:\n      - {{name: iquiz, task_type: exam, args: {{local_path: {p}, subset_list: [EQ]}}}}\n",
        p = path.display()
    )
}

/// `micro_avg.` of the category row of group `group`.
fn group_score(detailed: &Value, group: &str) -> Option<f64> {
    detailed["category_level"]
        .as_array()?
        .iter()
        .find(|r| r["category1"] == group)?["micro_avg."]
        .as_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_dataset_of_a_collection_is_scored_with_its_own_filters() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let schema = tmp.path().join("mix.yaml");
    std::fs::write(&schema, schema_text()).expect("schema");
    let (lines, _) =
        build_collection(&schema, None, SamplerKind::Uniform, 100, 42).expect("collection builds");
    assert_eq!(lines.len(), 20);
    let mix = tmp.path().join("mix.jsonl");
    write_lines(&mix, &lines).expect("written");

    let dc = registry::benchmark("data_collection").expect("registered");
    let dargs = DatasetArgs {
        local_path: Some(mix.clone()),
        ..Default::default()
    };
    let samples = dc.load(&dargs).expect("collection loads");
    let iq = registry::benchmark("iquiz").expect("known");
    let mut entries: Vec<KeyEntry> = Vec::new();
    for s in &samples {
        let (_, inner) = original_of(s).expect("collection sample");
        entries.extend(build(&[inner], iq.as_ref(), false).expect("key entry"));
    }
    let key_path = tmp.path().join("key.jsonl");
    write_jsonl(&key_path, &entries).expect("key");
    let mut cfg = SimConfig {
        seed: 5,
        ..Default::default()
    };
    cfg.latency.ttft_ms = Dist::fixed(1.0);
    cfg.latency.itl_ms = Dist::fixed(0.0);
    cfg.reasoning.mode = ReasoningMode::ThinkTags;
    cfg.reasoning.thoughts = Some(ThoughtsConfig {
        paragraphs: 3,
        first_correct: 2,
        words: 4,
    });
    cfg.answer_key = Some(llm_sim::AnswerKeyConfig::new(&key_path, 0.7));
    let key = AnswerKey::parse(
        &std::fs::read_to_string(&key_path).expect("key"),
        cfg.seed,
        cfg.answer_key.as_ref().expect("set"),
    )
    .expect("key parses");
    let sim = start_sim(cfg).await;

    let cancel = CancellationToken::new();
    let mut cluster = Cluster::start(ClusterConfig::local("collfilter", 1), &cancel)
        .await
        .expect("cluster");
    let agents = cluster
        .wait_for(1, &Default::default(), Duration::from_secs(10))
        .await
        .expect("agents");
    let mut job = EvalJob {
        name: "mix".into(),
        model: "sim-model".into(),
        target: sim_target(&sim, swarm_common::shard::ApiKind::Chat),
        datasets: vec!["data_collection".into()],
        dataset_args: BTreeMap::from([("data_collection".to_owned(), dargs.clone())]),
        gen_params: gen_params(serde_json::Map::new(), false),
        batch_size: 8,
        repeats: 1,
        judge_strategy: Default::default(),
        judge: None,
        judge_model_args: None,
        rejudge: false,
    };
    let root = tmp.path().join("eval");
    run_job(Some(&mut cluster), &agents, &job, &root, false, &cancel)
        .await
        .expect("eval runs");
    cluster.shutdown().await;
    sim.shutdown().await;

    // what the key says, per group
    let mut right: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in &samples {
        let ok = key
            .answers_correctly(&prompt_sha256(s).expect("user message"))
            .expect("keyed");
        let group = if s.subset == "iquiz/IQ" {
            "Filtered"
        } else {
            "Raw"
        };
        right
            .entry(group)
            .or_default()
            .push(if ok { 1.0 } else { 0.0 });
    }
    let mean = |v: &[f64]| round4(v.iter().sum::<f64>() / v.len() as f64);
    let (filtered, raw) = (mean(&right["Filtered"]), mean(&right["Raw"]));
    assert!(filtered > 0.0 && raw > 0.0, "{right:?}");

    let report = root.join("reports/sim-model/collection_detailed_report.json");
    let detailed = read_json(&report);
    assert_eq!(
        group_score(&detailed, "Filtered"),
        Some(filtered),
        "{detailed}"
    );
    // unfiltered, the first `答案：` is the wrong one floated in the thinking
    assert_eq!(group_score(&detailed, "Raw"), Some(0.0), "{detailed}");
    let reviews =
        std::fs::read_to_string(root.join("reviews/sim-model/data_collection_iquiz_EQ.jsonl"))
            .expect("EQ reviews");
    let wrong: Vec<bool> = reviews
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("review line");
            v["sample_score"]["score"]["extracted_prediction"] != v["target"]
        })
        .collect();
    assert_eq!(wrong, vec![true; 10]);

    // the task's own per-dataset filters (EvalScope's dataset_args.iquiz) win: re-scored, no calls
    job.dataset_args.insert(
        "iquiz".to_owned(),
        DatasetArgs {
            filters: serde_json::from_value(serde_json::json!({"remove_until": "</think>"}))
                .expect("filters"),
            ..Default::default()
        },
    );
    run_job(None, &[], &job, &root, true, &cancel)
        .await
        .expect("re-scores");
    let detailed = read_json(&report);
    assert_eq!(
        group_score(&detailed, "Filtered"),
        Some(filtered),
        "{detailed}"
    );
    assert_eq!(group_score(&detailed, "Raw"), Some(raw), "{detailed}");
}

#[test]
fn a_schema_datasets_bad_filters_fail_the_build_by_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let schema = tmp.path().join("bad.yaml");
    std::fs::write(
        &schema,
        schema_text().replace("remove_until: \"</think>\"", "shout: 1"),
    )
    .expect("schema");
    let err = build_collection(&schema, None, SamplerKind::Uniform, 10, 1).expect_err("bad filter");
    let text = format!("{err:#}");
    assert!(
        text.contains("bad.yaml: field `datasets[0].datasets[0].args.filters`")
            && text.contains("unknown filter \"shout\""),
        "{text}"
    );
}
