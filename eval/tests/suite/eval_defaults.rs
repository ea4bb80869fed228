//! Every benchmark's defaults are EvalScope's: few-shot number, eval and few-shot splits,
//! subsets, metrics, aggregation (against its benchmark meta, `fixtures/eval/
//! evalscope_benchmarks_meta.json`); the default prompt of one sample per benchmark is the one
//! EvalScope's meta shows; over the whole published data in ../shared, the lengths of every
//! default prompt give EvalScope's prompt-length statistics; and a few-shot split that is not
//! there is an error naming the file and the way out (`few_shot_num: 0`).
//!
//! C-Eval and GPQA text may not be in the repository: their checks read ../shared and are
//! recorded as skipped when it is absent.

//!
//! Split by family: the benchmark meta and one default prompt per benchmark here; MCQ
//! prompts (MMLU-Pro, C-Eval, GPQA) in `eval_defaults_mcq`; gsm8k's few-shot prompt and the
//! few-shot split errors in `eval_defaults_few_shot`; prompt-length statistics in
//! `eval_defaults_stats`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use swarm_eval::registry::{benchmark, names};
use swarm_eval::{DatasetArgs, Sample};

use super::shared::shared_data;

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

pub(crate) fn meta() -> BTreeMap<String, Value> {
    let path = fixtures().join("evalscope_benchmarks_meta.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn args(path: impl Into<PathBuf>) -> DatasetArgs {
    DatasetArgs {
        local_path: Some(path.into()),
        ..DatasetArgs::default()
    }
}

pub(crate) fn prompt(sample: &Sample) -> &str {
    sample.messages.last().unwrap()["content"].as_str().unwrap()
}

/// The prompt EvalScope's meta shows for `name`: (subset, text), the text possibly cut in the
/// middle (`head ... [TRUNCATED n chars] ... tail`). From the fixture, else (C-Eval, GPQA) from
/// ../shared.
pub(crate) fn evalscope_example(name: &str) -> Option<(String, String)> {
    let example = match meta()[name].get("sample_example") {
        Some(e) => e.clone(),
        None => {
            let path = shared_data().join(format!("evalscope_samples/benchmarks_meta/{name}.json"));
            let text = std::fs::read_to_string(&path).ok()?;
            let full: Value = serde_json::from_str(&text).unwrap();
            let e = &full["sample_example"];
            let input = e["data"]["input"].as_array().unwrap();
            assert_eq!(input.len(), 1, "{name}: one message");
            serde_json::json!({
                "subset": e["subset"],
                "id": e["data"]["id"],
                "content": input[0]["content"],
            })
        }
    };
    assert_eq!(example["id"], 0, "{name}: the first sample of its subset");
    Some((
        example["subset"].as_str().unwrap().to_owned(),
        example["content"].as_str().unwrap().to_owned(),
    ))
}

/// `ours` is the prompt EvalScope printed as `theirs`: equal, or, where EvalScope cut the middle
/// out, the same head and tail (and, when it says how many characters it cut, the same length).
pub(crate) fn assert_same_prompt(ours: &str, theirs: &str, what: &str) {
    let Some((head, rest)) = theirs.split_once(" ... [TRUNCATED") else {
        assert_eq!(ours, theirs, "{what}");
        return;
    };
    let (cut, tail) = rest.split_once("] ... ").unwrap();
    assert!(
        ours.starts_with(head),
        "{what}: head differs\n ours: {ours:?}\ntheirs: {head:?}"
    );
    assert!(
        ours.ends_with(tail),
        "{what}: tail differs\n ours: {ours:?}\ntheirs: {tail:?}"
    );
    let kept = head.chars().count() + tail.chars().count();
    match cut.trim().strip_suffix(" chars") {
        Some(n) => assert_eq!(
            ours.chars().count(),
            kept + n.parse::<usize>().unwrap(),
            "{what}: length"
        ),
        None => assert!(ours.chars().count() > kept, "{what}: length"),
    }
}

/// The default prompt of the first sample of `subset`.
pub(crate) fn first_default_prompt(name: &str, mut a: DatasetArgs, subset: &str) -> String {
    a.subset_list = vec![subset.to_owned()];
    a.limit = Some(1);
    let samples = benchmark(name).unwrap().load(&a).unwrap();
    assert_eq!(samples[0].id, format!("{subset}_0"), "{name}");
    assert_eq!(samples[0].messages.len(), 1, "{name}: no system prompt");
    prompt(&samples[0]).to_owned()
}

#[test]
fn every_benchmarks_defaults_are_evalscopes_meta() {
    let meta = meta();
    let ours: Vec<&str> = names()
        .into_iter()
        // general_mcq / general_qa: EvalScope 1.14.1 custom benchmarks, not in the meta fixture;
        // needle_haystack: EvalScope 1.14.1's meta, checked in eval_needle.rs
        .filter(|n| {
            ![
                "data_collection",
                "general_mcq",
                "general_qa",
                "needle_haystack",
            ]
            .contains(n)
        })
        .collect();
    assert_eq!(ours, meta.keys().map(String::as_str).collect::<Vec<_>>());
    for name in ours {
        let theirs = &meta[name];
        let b = benchmark(name).unwrap();
        let m = b.meta();
        assert_eq!(
            m.few_shot_num, theirs["few_shot_num"],
            "{name}: few_shot_num"
        );
        assert_eq!(m.eval_split, theirs["eval_split"], "{name}: eval_split");
        assert_eq!(m.train_split, theirs["train_split"], "{name}: train_split");
        assert_eq!(
            serde_json::to_value(&m.subsets).unwrap(),
            theirs["subset_list"],
            "{name}: subsets"
        );
        assert_eq!(m.pretty_name, theirs["pretty_name"], "{name}");
        assert_eq!(
            b.aggregation().name(),
            theirs["aggregation"],
            "{name}: aggregation"
        );
        // EvalScope v1.10.0's metric names (`acc`; IFEval's four); its meta now says `accuracy`
        // with the same options (numeric, allow_inclusion), which the scorers implement.
        let metric_names: Vec<String> = theirs["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| match m {
                Value::String(s) => s.clone(),
                Value::Object(o) => o.keys().next().unwrap().clone(),
                other => panic!("{name}: metric {other}"),
            })
            .map(|m| if m == "accuracy" { "acc".to_owned() } else { m })
            .collect();
        assert_eq!(m.metrics, metric_names, "{name}: metrics");
        // No system prompt by default, as EvalScope v1.10.0. Its later meta gives
        // live_code_bench one (docs/BENCHMARKS_EVAL.md lists the difference).
        if name == "live_code_bench" {
            assert!(
                theirs["system_prompt"]
                    .as_str()
                    .unwrap()
                    .starts_with("You are an expert Python programmer.")
            );
        } else {
            assert_eq!(theirs["system_prompt"], "", "{name}: system prompt");
        }
    }
}

/// (benchmark, its data in the repository) for the default-prompt pins.
fn fixture_data() -> Vec<(&'static str, PathBuf)> {
    let f = fixtures();
    vec![
        ("aime24", f.join("aime24/test.jsonl")),
        ("aime25", f.join("aime25/test.jsonl")),
        ("gsm8k", f.join("gsm8k/test.jsonl")),
        ("humaneval", f.join("humaneval/HumanEval.jsonl.gz")),
        ("ifeval", f.join("ifeval/input_data.jsonl")),
        ("iquiz", f.join("iquiz/iquiz.jsonl")),
        (
            "live_code_bench",
            f.join("live_code_bench/rllm_livecodebench_test_publictests.json"),
        ),
        ("math_500", f.join("math_500/test.jsonl")),
        ("mmlu_redux", f.join("mmlu_redux/test.jsonl")),
    ]
}

#[test]
fn the_default_prompt_of_one_sample_is_evalscopes_for_each_benchmark_with_data_here() {
    for (name, path) in fixture_data() {
        let (subset, theirs) = evalscope_example(name).unwrap();
        let ours = first_default_prompt(name, args(path), &subset);
        assert_same_prompt(&ours, &theirs, name);
    }
}
