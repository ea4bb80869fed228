//! Collections: each line is filtered with its own dataset's filters — the schema dataset's
//! (carried in the line), else the `data_collection` entry's, overridden by the task's
//! per-dataset ones — so IQuiz's first-match `答案：` parser scores a `<think>` decoy only
//! where no `remove_until: "</think>"` applies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use swarm_eval::collection::line_args::filters_of;
use swarm_eval::collection::{
    CollectionSchema, SamplerKind, apply_task_filters, dataset_args_key_allowed, flatten,
    read_lines, sample, write_lines,
};
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError, Sample, task};

fn iquiz_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/iquiz/iquiz.jsonl")
}

/// IQ with `remove_until: "</think>"`, EQ without filters.
const SCHEMA: &str = r#"
name: mix
datasets:
  - name: Filtered
    datasets:
      - {name: iquiz, task_type: exam, args: {subset_list: [IQ], filters: {remove_until: "</think>"}}}
  - name: Raw
    datasets:
      - {name: iquiz, task_type: exam, args: {subset_list: [EQ]}}
"#;

fn filters(v: Value) -> Map<String, Value> {
    serde_json::from_value(v).unwrap()
}

/// The whole fixture (10 IQ, 10 EQ) as a collection file; returns its path.
fn built(dir: &Path) -> PathBuf {
    let schema = CollectionSchema::parse(SCHEMA, Path::new("mix.yaml")).unwrap();
    let data: Vec<_> = flatten(&schema)
        .into_iter()
        .map(|d| {
            let mut args = d.args.clone();
            args.local_path = Some(iquiz_file());
            let samples = benchmark(&d.name).unwrap().load(&args).unwrap();
            (d, samples)
        })
        .collect();
    let lines = sample(SamplerKind::Uniform, &data, 100, 1);
    assert_eq!(lines.len(), 20);
    let path = dir.join("mix.jsonl");
    write_lines(&path, &lines).unwrap();
    path
}

/// A completion whose thinking holds a wrong `答案：` before the right one.
fn completion(gold: &str) -> String {
    let decoy = if gold == "A" { "B" } else { "A" };
    format!("<think>\n答案：{decoy}\n</think>\n\n答案：{gold}")
}

/// (subset, extracted is the gold, acc) of every sample, scored as an agent scores it.
fn scored(samples: &[Sample], own: &DatasetArgs) -> Vec<(String, bool, f64)> {
    let dc = benchmark("data_collection").unwrap();
    let chain = task::filters("data_collection", own).unwrap();
    samples
        .iter()
        .map(|s| {
            let (extracted, score) = task::score(dc.as_ref(), &chain, s, &completion(&s.gold));
            (s.subset.clone(), extracted == s.gold, score.values["acc"])
        })
        .collect()
}

fn acc_by_subset(rows: &[(String, bool, f64)]) -> BTreeMap<String, f64> {
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (subset, _, acc) in rows {
        let e = sums.entry(subset.clone()).or_default();
        e.0 += acc;
        e.1 += 1.0;
    }
    sums.into_iter().map(|(k, (s, n))| (k, s / n)).collect()
}

fn load(path: &Path, own: &DatasetArgs) -> Vec<Sample> {
    benchmark("data_collection")
        .unwrap()
        .load(&DatasetArgs {
            local_path: Some(path.to_owned()),
            ..own.clone()
        })
        .unwrap()
}

#[test]
fn built_lines_carry_their_schema_datasets_filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = built(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut carried = 0;
    for raw in text.lines() {
        let v: Value = serde_json::from_str(raw).unwrap();
        match v["subset_name"].as_str().unwrap() {
            "IQ" => {
                assert_eq!(v["args"], json!({"filters": {"remove_until": "</think>"}}));
                carried += 1;
            }
            _ => assert!(v.get("args").is_none(), "{raw}"),
        }
    }
    assert_eq!(carried, 10);
    let back = read_lines(&path).unwrap();
    assert_eq!(back.len(), 20);
    let carrying: Vec<bool> = back.iter().map(|(_, l)| !l.args.is_empty()).collect();
    let iq: Vec<bool> = back.iter().map(|(_, l)| l.subset_name == "IQ").collect();
    assert_eq!(carrying, iq);
}

#[test]
fn each_line_is_scored_with_its_own_datasets_filters() {
    let dir = tempfile::tempdir().unwrap();
    let path = built(dir.path());
    let none = DatasetArgs::default();
    let samples = load(&path, &none);
    assert_eq!(samples.len(), 20);
    // the collection's shard-wide chain is empty: filtering is per sample
    let own_remove = DatasetArgs {
        filters: filters(json!({"remove_until": "</think>"})),
        ..Default::default()
    };
    assert!(
        task::filters("data_collection", &own_remove)
            .unwrap()
            .is_empty()
    );
    assert!(!task::filters("iquiz", &own_remove).unwrap().is_empty());

    let rows = scored(&samples, &none);
    for (subset, right, acc) in &rows {
        let filtered = subset == "iquiz/IQ";
        assert_eq!((*right, *acc), (filtered, if filtered { 1.0 } else { 0.0 }));
    }
    assert_eq!(
        acc_by_subset(&rows),
        BTreeMap::from([("iquiz/EQ".to_owned(), 0.0), ("iquiz/IQ".to_owned(), 1.0)])
    );
    for s in &samples {
        let chain = filters_of(s).unwrap();
        assert_eq!(chain.filters().len(), usize::from(s.subset == "iquiz/IQ"));
    }

    // the data_collection entry's filters are the default of lines without their own
    let samples = load(&path, &own_remove);
    assert_eq!(
        acc_by_subset(&scored(&samples, &own_remove)),
        BTreeMap::from([("iquiz/EQ".to_owned(), 1.0), ("iquiz/IQ".to_owned(), 1.0)])
    );
    // ... and a line's own filters win over them
    let own_regex = DatasetArgs {
        filters: filters(json!({"regex": {"regex_pattern": "答案：([A-Z])"}})),
        ..Default::default()
    };
    let samples = load(&path, &own_regex);
    assert_eq!(
        acc_by_subset(&scored(&samples, &own_regex)),
        BTreeMap::from([("iquiz/EQ".to_owned(), 0.0), ("iquiz/IQ".to_owned(), 1.0)])
    );
}

#[test]
fn the_tasks_per_dataset_filters_override_the_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = built(dir.path());
    let none = DatasetArgs::default();
    let mut samples = load(&path, &none);
    // the first `答案：X` letter: the decoy, in every line
    let task_args = BTreeMap::from([
        ("data_collection".to_owned(), none.clone()),
        (
            "iquiz".to_owned(),
            DatasetArgs {
                filters: filters(json!({"regex": {"regex_pattern": "答案：([A-Z])"}})),
                ..Default::default()
            },
        ),
        (
            "gsm8k".to_owned(),
            DatasetArgs {
                filters: filters(json!({"remove_until": "</think>"})),
                ..Default::default()
            },
        ),
    ]);
    assert_eq!(apply_task_filters(&mut samples, &task_args).unwrap(), 20);
    assert_eq!(
        acc_by_subset(&scored(&samples, &none)),
        BTreeMap::from([("iquiz/EQ".to_owned(), 0.0), ("iquiz/IQ".to_owned(), 0.0)])
    );
    let remove = BTreeMap::from([(
        "iquiz".to_owned(),
        DatasetArgs {
            filters: filters(json!({"remove_until": "</think>"})),
            ..Default::default()
        },
    )]);
    assert_eq!(apply_task_filters(&mut samples, &remove).unwrap(), 20);
    assert_eq!(
        acc_by_subset(&scored(&samples, &none)),
        BTreeMap::from([("iquiz/EQ".to_owned(), 1.0), ("iquiz/IQ".to_owned(), 1.0)])
    );
    // a bad filter is named, and nothing changes
    let bad = BTreeMap::from([(
        "iquiz".to_owned(),
        DatasetArgs {
            filters: filters(json!({"remove_until": ""})),
            ..Default::default()
        },
    )]);
    let e = apply_task_filters(&mut samples, &bad)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "iquiz: filter `remove_until` has an empty delimiter");
    assert_eq!(
        acc_by_subset(&scored(&samples, &none)),
        BTreeMap::from([("iquiz/EQ".to_owned(), 1.0), ("iquiz/IQ".to_owned(), 1.0)])
    );
}

#[test]
fn bad_filters_are_named_by_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let line = |index: u32, args: Value| json!({"index": index, "prompt": {"input": [{"role": "user", "content": "q"}], "target": "1", "id": 0, "subset_key": "main"}, "tags": [], "categories": ["c"], "task_type": "math", "weight": 1.0, "dataset_name": "gsm8k", "subset_name": "main", "args": args});
    let load_err = |second: Value, own: &DatasetArgs| {
        std::fs::write(
            &path,
            format!("{}\n{second}\n", line(0, json!({"filters": {}}))),
        )
        .unwrap();
        benchmark("data_collection")
            .unwrap()
            .load(&DatasetArgs {
                local_path: Some(path.clone()),
                ..own.clone()
            })
            .unwrap_err()
    };
    let none = DatasetArgs::default();
    let e = load_err(line(1, json!({"filters": {"shout": null}})), &none);
    assert!(
        matches!(&e, EvalError::BadRecord { line: 2, field, .. } if field == "args.filters"),
        "{e}"
    );
    assert!(e.to_string().contains("unknown filter \"shout\""), "{e}");
    let e = load_err(line(1, json!({"filter": {}})), &none).to_string();
    assert!(
        e.contains("bad.jsonl:2: field `args") && e.contains("unknown field `filter`"),
        "{e}"
    );
    let own = DatasetArgs {
        filters: filters(json!({"regex": {"regex_pattern": "("}})),
        ..Default::default()
    };
    let e = load_err(line(1, json!({})), &own).to_string();
    assert!(
        e.starts_with("data_collection: filter `regex`: bad pattern"),
        "{e}"
    );
    // a schema dataset's bad filters fail before any line is written (see the e2e build test)
    assert!(dataset_args_key_allowed(
        &["data_collection".into()],
        "iquiz"
    ));
    assert!(!dataset_args_key_allowed(&["gsm8k".into()], "iquiz"));
    assert!(!dataset_args_key_allowed(
        &["data_collection".into()],
        "no_such_bench"
    ));
}
