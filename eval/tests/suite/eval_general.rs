//! `general_mcq` and `general_qa` (EvalScope's "bring your own benchmark") against EvalScope
//! 1.14.1 itself: `tests/fixtures/eval/general/reference.json` holds what EvalScope's own
//! adapters made of the files beside it (`make_reference.py`): every prompt must equal ours byte
//! for byte, every extracted answer and score ours. Also: file lookup, bad files, and use in a
//! collection. Chinese text (segmented with jieba) is checked in `eval_general_zh`.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use swarm_eval::collection::{CollectionLine, CollectionSchema, flatten};
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError, Sample};

pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/general")
}

pub(crate) fn reference() -> Value {
    let text = std::fs::read_to_string(dir().join("reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Our `DatasetArgs` of a reference case (its `local_path` relative to the fixture folder).
pub(crate) fn args_of(case: &Value) -> DatasetArgs {
    let mut args = case["dataset_args"].as_object().unwrap().clone();
    let rel = args["local_path"].as_str().unwrap().to_owned();
    args.insert(
        "local_path".into(),
        Value::String(dir().join(rel).to_string_lossy().into_owned()),
    );
    serde_json::from_value(Value::Object(args)).unwrap()
}

fn load(name: &str, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
    benchmark(name).unwrap().load(args)
}

/// EvalScope 1.14.1 calls `acc` `accuracy`; the project keeps v1.10.0's name.
fn our_metric(name: &str) -> &str {
    if name == "accuracy" { "acc" } else { name }
}

#[test]
fn reference_was_made_by_evalscope_1_14_1() {
    let r = reference();
    assert_eq!(r["evalscope"], "1.14.1");
    assert_eq!(r["jieba"], "0.42.1");
    assert_eq!(r["cases"].as_array().unwrap().len(), 8);
}

#[test]
fn prompts_equal_evalscope_byte_for_byte() {
    let mut checked = 0;
    for case in reference()["cases"].as_array().unwrap() {
        let name = case["benchmark"].as_str().unwrap();
        let ours = load(name, &args_of(case)).unwrap();
        let theirs = case["samples"].as_array().unwrap();
        assert_eq!(ours.len(), theirs.len(), "{}", case["name"]);
        for (o, t) in ours.iter().zip(theirs) {
            let label = format!("{} {}", case["name"], o.id);
            assert_eq!(Value::Array(o.messages.clone()), t["messages"], "{label}");
            assert_eq!(o.subset, t["subset"].as_str().unwrap(), "{label}");
            assert_eq!(
                o.id,
                format!("{}_{}", t["subset"].as_str().unwrap(), t["index"]),
                "{label}"
            );
            let target = t["target"].as_str().unwrap();
            // EvalScope's target text joins several answers with newlines; MCQ gold is compact
            let gold = if name == "general_mcq" {
                target.replace('\n', "")
            } else {
                target.to_owned()
            };
            assert_eq!(o.gold, gold, "{label}");
            assert_eq!(json!(o.choices), t["choices"], "{label}");
            checked += 1;
        }
    }
    assert_eq!(checked, 12 + 12 + 3 + 4 + 10 + 2 + 4 + 6);
}

#[test]
fn mcq_extraction_and_scores_equal_evalscope() {
    let mut checked = 0;
    for case in reference()["cases"].as_array().unwrap() {
        if case["benchmark"] != "general_mcq" {
            continue;
        }
        let b = benchmark("general_mcq").unwrap();
        let ours = b.load(&args_of(case)).unwrap();
        for (o, t) in ours.iter().zip(case["samples"].as_array().unwrap()) {
            let Some(scores) = t["scores"].as_array() else {
                continue;
            };
            for s in scores {
                let completion = s["completion"].as_str().unwrap();
                let label = format!("{} {} {completion:?}", case["name"], o.id);
                let extracted = b.extract(completion, o);
                assert_eq!(extracted, s["extracted"].as_str().unwrap(), "{label}");
                let score = b.score(&extracted, o);
                let (metric, value) = s["values"].as_object().unwrap().iter().next().unwrap();
                assert_eq!(score.main, our_metric(metric), "{label}");
                assert_eq!(score.values.len(), 1, "{label}");
                assert_eq!(
                    score.values[our_metric(metric)],
                    value.as_f64().unwrap(),
                    "{label}"
                );
                checked += 1;
            }
        }
    }
    // 3 scored samples in each of the 6 MCQ cases (2 in the last), 22 completions each
    assert_eq!(checked, (3 * 5 + 2) * 22);
}

#[test]
fn qa_bleu_and_rouge_equal_evalscope() {
    let r = reference();
    let case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "qa_en")
        .unwrap();
    let b = benchmark("general_qa").unwrap();
    let ours = b.load(&args_of(case)).unwrap();
    let mut checked = 0;
    for (o, t) in ours.iter().zip(case["samples"].as_array().unwrap()) {
        for s in t["scores"].as_array().unwrap() {
            let completion = s["completion"].as_str().unwrap();
            let label = format!("{} {completion:?}", o.id);
            assert_eq!(o.gold, s["reference"].as_str().unwrap(), "{label}");
            let extracted = b.extract(completion, o);
            let score = b.score(&extracted, o);
            assert_eq!(score.main, s["main"].as_str().unwrap(), "{label}");
            let theirs: &Map<String, Value> = s["values"].as_object().unwrap();
            assert_eq!(score.values.len(), theirs.len(), "{label}");
            for (k, v) in theirs {
                let ours = score.values[k.as_str()];
                let theirs = v.as_f64().unwrap();
                // equal to the last bit but for serde_json's float parsing (without its
                // `float_roundtrip` feature it may read a number one unit in the last place off)
                assert!(
                    ours == theirs || (ours - theirs).abs() <= f64::EPSILON * theirs.abs(),
                    "{label} {k}: ours {ours:e}, EvalScope {theirs:e}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 + 7);
}

#[test]
fn missing_and_bad_files_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let args = |subset: &str| DatasetArgs {
        local_path: Some(tmp.path().to_owned()),
        subset_list: vec![subset.into()],
        ..DatasetArgs::default()
    };
    // no file for the subset: the expected names and what is there
    std::fs::write(tmp.path().join("other_val.jsonl"), "{}\n").unwrap();
    let err = load("general_mcq", &args("mine")).unwrap_err().to_string();
    assert!(
        err.contains("mine_val.jsonl") && err.contains("other_val.jsonl"),
        "{err}"
    );
    // not JSON
    std::fs::write(
        tmp.path().join("bad_val.jsonl"),
        "{\"question\": \"q\"}\nnot json\n",
    )
    .unwrap();
    let err = load("general_mcq", &args("bad")).unwrap_err().to_string();
    assert!(
        err.contains("bad_val.jsonl:1:") || err.contains("bad_val.jsonl:2:"),
        "{err}"
    );
    // missing answer, named with its line
    std::fs::write(
        tmp.path().join("noans_val.jsonl"),
        "{\"question\": \"q\", \"A\": \"x\", \"B\": \"y\", \"answer\": \"A\"}\n{\"question\": \"q\", \"A\": \"x\"}\n",
    )
    .unwrap();
    let err = load("general_mcq", &args("noans")).unwrap_err().to_string();
    assert!(err.contains("noans_val.jsonl:2: field `answer`"), "{err}");
    // multiple_correct needs a list
    let mut multi = args("noans");
    multi.limit = Some(1);
    multi
        .extra_params
        .insert("multiple_correct".into(), json!(true));
    let err = load("general_mcq", &multi).unwrap_err().to_string();
    assert!(
        err.contains("noans_val.jsonl:1: field `answer`") && err.contains("list"),
        "{err}"
    );
    // several answers without multiple_correct
    std::fs::write(
        tmp.path().join("two_val.jsonl"),
        "{\"question\": \"q\", \"A\": \"x\", \"B\": \"y\", \"answer\": [\"A\", \"B\"]}\n",
    )
    .unwrap();
    let err = load("general_mcq", &args("two")).unwrap_err().to_string();
    assert!(err.contains("multiple_correct"), "{err}");
    // few-shot without a dev file
    let mut shots = args("noans");
    shots.limit = Some(1);
    shots.few_shot_num = Some(1);
    std::fs::remove_file(tmp.path().join("other_val.jsonl")).unwrap();
    let err = load("general_mcq", &shots).unwrap_err().to_string();
    assert!(err.contains("noans_dev.jsonl"), "{err}");
    // a QA record without a question
    std::fs::write(tmp.path().join("qa_test.jsonl"), "{\"response\": \"x\"}\n").unwrap();
    let err = load("general_qa", &args("qa")).unwrap_err().to_string();
    assert!(err.contains("qa_test.jsonl:1: field `query`"), "{err}");
    // no local_path
    let err = load("general_qa", &DatasetArgs::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("local_path"), "{err}");
    // a few-shot QA run
    let mut qa = args("qa");
    qa.few_shot_num = Some(2);
    assert!(load("general_qa", &qa).is_err());
}

#[test]
fn shared_examples_load_as_the_fixture_copies() {
    let shared = super::shared::shared_data().join("evalscope_samples/custom_eval/text/mcq");
    if !shared.is_dir() {
        super::shared::skipped(
            "shared_examples_load_as_the_fixture_copies",
            "no ../shared/data/evalscope_samples",
        );
        return;
    }
    for subset in ["example", "example_multi"] {
        let args = |path: PathBuf| DatasetArgs {
            local_path: Some(path),
            subset_list: vec![subset.into()],
            few_shot_num: Some(1),
            extra_params: [(
                "multiple_correct".to_owned(),
                json!(subset == "example_multi"),
            )]
            .into_iter()
            .collect(),
            ..DatasetArgs::default()
        };
        let ours = load("general_mcq", &args(dir().join("mcq"))).unwrap();
        assert_eq!(load("general_mcq", &args(shared.clone())).unwrap(), ours);
    }
}

#[test]
fn usable_in_a_collection() {
    let schema = CollectionSchema::parse(
        r#"
name: mine
datasets:
  - {name: general_mcq, weight: 1, task_type: exam, args: {subset_list: [example]}}
  - {name: general_qa, weight: 1, task_type: qa, args: {subset_list: [en]}}
"#,
        Path::new("schema.yaml"),
    )
    .unwrap();
    let flat = flatten(&schema);
    let collection = benchmark("data_collection").unwrap();
    for (d, (folder, completion)) in flat
        .iter()
        .zip([("mcq", "答案：B"), ("qa", "Jupiter is the largest planet.")])
    {
        let mut args = d.args.clone();
        args.local_path = Some(dir().join(folder));
        let inner = benchmark(&d.name).unwrap();
        let samples = inner.load(&args).unwrap();
        let line = CollectionLine::new(0, d, d.weight, &samples[0]);
        let sample = line.to_sample().unwrap();
        let extracted = collection.extract(completion, &sample);
        let direct = inner.score(&inner.extract(completion, &samples[0]), &samples[0]);
        assert_eq!(collection.score(&extracted, &sample), direct, "{}", d.name);
    }
}
