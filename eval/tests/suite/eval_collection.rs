//! Collections: schema parsing and its errors, weight flattening over three levels, the three
//! samplers' counts (EvalScope's integer splits), determinism by seed, counts beyond the data,
//! the JSONL line round trip and its errors, scoring through the original benchmark, and the
//! report's aggregation.

use std::path::{Path, PathBuf};

use serde_json::json;
use swarm_eval::collection::report::{benchmark_report, overview_rows};
use swarm_eval::collection::sampler::target_counts;
use swarm_eval::collection::{
    CollectionLine, CollectionSchema, SamplerKind, ScoredEntry, collection_report, flatten,
    read_lines, sample, write_lines,
};
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError, Sample};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

const THREE_LEVELS: &str = r#"
name: root
weight: 7
datasets:
  - name: A
    weight: 1
    datasets:
      - {name: gsm8k, weight: 1, task_type: math, tags: [en]}
      - {name: math_500, weight: 3, task_type: math, tags: [en, hard]}
  - name: B
    weight: 2
    datasets:
      - name: C
        datasets:
          - {name: mmlu_pro, task_type: exam, tags: [en]}
          - {name: iquiz, task_type: exam, tags: [zh], args: {subset_list: [IQ]}}
      - {name: aime24, weight: 1, task_type: math}
"#;

fn schema(text: &str) -> CollectionSchema {
    CollectionSchema::parse(text, Path::new("schema.yaml")).unwrap()
}

#[test]
fn weights_normalise_within_each_of_three_levels() {
    let flat = flatten(&schema(THREE_LEVELS));
    let got: Vec<(&str, f64, Vec<&str>)> = flat
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.weight,
                d.hierarchy.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let expect = [
        ("gsm8k", 1.0 / 12.0, vec!["root", "A"]),
        ("math_500", 0.25, vec!["root", "A"]),
        ("mmlu_pro", 1.0 / 6.0, vec!["root", "B", "C"]),
        ("iquiz", 1.0 / 6.0, vec!["root", "B", "C"]),
        ("aime24", 1.0 / 3.0, vec!["root", "B"]),
    ];
    assert_eq!(got.len(), expect.len());
    for ((name, w, h), (en, ew, eh)) in got.iter().zip(expect.iter()) {
        assert_eq!(name, en);
        assert!((w - ew).abs() < 1e-12, "{name}: {w} vs {ew}");
        assert_eq!(h, eh, "{name}");
    }
    let total: f64 = flat.iter().map(|d| d.weight).sum();
    assert!(
        (total - 1.0).abs() < 1e-12,
        "root weight 7 is ignored: {total}"
    );
    assert_eq!(flat[3].args.subset_list, ["IQ"]);
    assert_eq!(flat[1].tags, ["en", "hard"]);
    assert_eq!(flat[4].field, "datasets[1].datasets[1]");
}

#[test]
fn schema_errors_name_the_field() {
    let err = |text: &str| {
        CollectionSchema::parse(text, Path::new("s.yaml"))
            .unwrap_err()
            .to_string()
    };
    let e =
        err("name: x\ndatasets:\n  - name: g\n    datasets:\n      - {name: gsm8k, weight: 0}\n");
    assert!(
        e.starts_with("s.yaml: field `datasets[0].datasets[0].weight`: must be a number > 0"),
        "{e}"
    );
    let e = err("name: x\ndatasets:\n  - {name: gsm8k, wieght: 2}\n");
    assert!(
        e.contains("s.yaml") && e.contains("wieght") && e.contains("line 3"),
        "{e}"
    );
    let e = err("name: x\ndatasets:\n  - {name: g, datasets: []}\n");
    assert!(e.contains("`datasets[0].datasets`"), "{e}");
    let e = err("name: x\ndatasets:\n  - {name: g, tags: [a], datasets: [{name: gsm8k}]}\n");
    assert!(e.contains("`datasets[0]`") && e.contains("group"), "{e}");
    let e = err("name: x\ndatasets:\n  - {name: gsm8k, args: {few_shots: 2}}\n");
    assert!(
        e.contains("few_shots") && e.contains("datasets[0].args"),
        "{e}"
    );
    // JSON is accepted too
    let s = CollectionSchema::parse(
        r#"{"name": "j", "datasets": [{"name": "gsm8k", "weight": 2}]}"#,
        Path::new("s.json"),
    )
    .unwrap();
    assert_eq!(s.datasets[0].weight, 2.0);
}

#[test]
fn sampler_counts_follow_evalscopes_integer_splits() {
    let w = [1.0 / 12.0, 0.25, 1.0 / 6.0, 1.0 / 6.0, 1.0 / 3.0];
    let sizes = [100, 100, 100, 100, 100];
    assert_eq!(
        target_counts(SamplerKind::Weighted, &w, &sizes, 100),
        [8, 25, 16, 16, 35]
    );
    assert_eq!(
        target_counts(SamplerKind::Uniform, &w, &sizes, 12),
        [2, 2, 2, 2, 4]
    );
    assert_eq!(
        target_counts(SamplerKind::Stratified, &[0.5, 0.3, 0.2], &[10, 30, 60], 50),
        [5, 15, 30]
    );
    assert_eq!(
        target_counts(SamplerKind::Weighted, &[0.5, 0.5], &[3, 4], 0),
        [0, 0]
    );
}

fn fake(benchmark: &str, subset: &str, n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample {
            id: format!("{subset}_{i}"),
            benchmark: benchmark.to_owned(),
            subset: subset.to_owned(),
            messages: vec![json!({"role": "user", "content": format!("{benchmark} q{i}")})],
            gold: i.to_string(),
            choices: vec![],
            metadata: Default::default(),
        })
        .collect()
}

fn datasets() -> Vec<(swarm_eval::collection::FlatDataset, Vec<Sample>)> {
    let flat = flatten(&schema(THREE_LEVELS));
    let sizes = [40, 30, 50, 20, 10];
    flat.into_iter()
        .zip(sizes)
        .map(|(d, n)| {
            let s = fake(&d.name, "main", n);
            (d, s)
        })
        .collect()
}

fn per_dataset(lines: &[CollectionLine]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for l in lines {
        match out.last_mut() {
            Some((d, n)) if *d == l.dataset_name => *n += 1,
            _ => out.push((l.dataset_name.clone(), 1)),
        }
    }
    out
}

#[test]
fn each_sampler_gives_its_counts_deterministically_by_seed() {
    let data = datasets();
    let pairs = |v: &[(&str, usize)]| -> Vec<(String, usize)> {
        v.iter().map(|(a, b)| ((*a).to_owned(), *b)).collect()
    };
    let weighted = sample(SamplerKind::Weighted, &data, 60, 42);
    assert_eq!(
        per_dataset(&weighted),
        pairs(&[
            ("gsm8k", 5),
            ("math_500", 15),
            ("mmlu_pro", 10),
            ("iquiz", 10),
            ("aime24", 10)
        ])
    );
    let uniform = sample(SamplerKind::Uniform, &data, 25, 42);
    assert_eq!(
        per_dataset(&uniform),
        pairs(&[
            ("gsm8k", 5),
            ("math_500", 5),
            ("mmlu_pro", 5),
            ("iquiz", 5),
            ("aime24", 5)
        ])
    );
    // sizes 40 30 50 20 10 of 150: int(40/150*30)=8, 6, 10, 4, remainder 2
    let stratified = sample(SamplerKind::Stratified, &data, 30, 42);
    assert_eq!(
        per_dataset(&stratified),
        pairs(&[
            ("gsm8k", 8),
            ("math_500", 6),
            ("mmlu_pro", 10),
            ("iquiz", 4),
            ("aime24", 2)
        ])
    );
    for lines in [&weighted, &uniform, &stratified] {
        let indexes: Vec<usize> = lines.iter().map(|l| l.index).collect();
        assert_eq!(indexes, (0..lines.len()).collect::<Vec<_>>());
        let mut ids: Vec<(String, String)> = lines
            .iter()
            .map(|l| (l.dataset_name.clone(), l.prompt["id"].to_string()))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), lines.len(), "no sample drawn twice");
    }
    assert_eq!(
        weighted,
        sample(SamplerKind::Weighted, &data, 60, 42),
        "same seed"
    );
    assert_ne!(
        weighted,
        sample(SamplerKind::Weighted, &data, 60, 7),
        "another seed"
    );
    // per-entry weight is the dataset weight over what it gave
    assert!((weighted[0].weight - (1.0 / 12.0) / 5.0).abs() < 1e-12);
    let total: f64 = weighted.iter().map(|l| l.weight).sum();
    assert!((total - 1.0).abs() < 1e-9, "{total}");
}

#[test]
fn a_count_beyond_the_data_takes_everything_once() {
    let data = datasets();
    for kind in [
        SamplerKind::Weighted,
        SamplerKind::Uniform,
        SamplerKind::Stratified,
    ] {
        let lines = sample(kind, &data, 100_000, 1);
        assert_eq!(lines.len(), 150, "{kind:?}");
        let mut ids: Vec<String> = lines
            .iter()
            .map(|l| format!("{}/{}", l.dataset_name, l.prompt["id"]))
            .collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 150, "{kind:?}");
    }
}

#[test]
fn jsonl_lines_round_trip_and_keep_what_scoring_needs() {
    let mut data = Vec::new();
    let flat = flatten(&schema(THREE_LEVELS));
    for d in flat {
        let path = match d.name.as_str() {
            "gsm8k" => fixtures().join("gsm8k/test.jsonl"),
            "math_500" => fixtures().join("math_500/test.jsonl"),
            "mmlu_pro" => fixtures().join("mmlu_pro/test.jsonl"),
            "iquiz" => fixtures().join("iquiz/iquiz.jsonl"),
            _ => fixtures().join("aime24/test.jsonl"),
        };
        let mut args = d.args.clone();
        args.local_path = Some(path);
        if d.name == "mmlu_pro" {
            // its default 5-shot examples (the validation split) are not in the fixtures
            args.few_shot_num = Some(0);
        }
        let samples = benchmark(&d.name).unwrap().load(&args).unwrap();
        data.push((d, samples));
    }
    let lines = sample(SamplerKind::Weighted, &data, 20, 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mix.jsonl");
    write_lines(&path, &lines).unwrap();
    let back: Vec<CollectionLine> = read_lines(&path)
        .unwrap()
        .into_iter()
        .map(|(_, l)| l)
        .collect();
    assert_eq!(back, lines);
    // the original sample comes back whole
    for l in &lines {
        let original = l.original().unwrap();
        let (_, samples) = data.iter().find(|(d, _)| d.name == l.dataset_name).unwrap();
        assert!(samples.contains(&original), "{}: {original:?}", l.index);
    }
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "index",
            "prompt",
            "tags",
            "categories",
            "task_type",
            "weight",
            "dataset_name",
            "subset_name"
        ]
    );
    // the data_collection benchmark loads it and scores through the original benchmark
    let dc = benchmark("data_collection").unwrap();
    let samples = dc
        .load(&DatasetArgs {
            local_path: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(samples.len(), lines.len());
    for (s, l) in samples.iter().zip(&lines) {
        assert_eq!(s.benchmark, "data_collection");
        assert_eq!(s.subset, format!("{}/{}", l.dataset_name, l.subset_name));
        assert_eq!(s.id, format!("{}_{}", s.subset, l.index));
        let original = l.original().unwrap();
        let bench = benchmark(&l.dataset_name).unwrap();
        for completion in [
            format!("The answer is \\boxed{{{}}}.", original.gold),
            format!("ANSWER: {}", original.gold),
            format!("答案：{}", original.gold),
            "ANSWER: Z".to_owned(),
        ] {
            let mine = dc.extract(&completion, s);
            assert_eq!(mine, bench.extract(&completion, &original));
            assert_eq!(dc.score(&mine, s), bench.score(&mine, &original));
        }
    }
    let limited = dc
        .load(&DatasetArgs {
            local_path: Some(path.clone()),
            limit: Some(3),
            subset_list: vec!["math_500".into()],
            ..Default::default()
        })
        .unwrap();
    assert!(limited.len() <= 3 && !limited.is_empty());
    assert!(limited.iter().all(|s| s.subset.starts_with("math_500/")));
}

#[test]
fn bad_lines_are_named_by_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = json!({"index": 0, "prompt": {"input": [{"role": "user", "content": "q"}], "target": "1", "id": 0, "subset_key": "main"}, "tags": [], "categories": ["c"], "task_type": "math", "weight": 1.0, "dataset_name": "gsm8k", "subset_name": "main"});
    let case = |second: serde_json::Value| {
        let path = dir.path().join("bad.jsonl");
        std::fs::write(&path, format!("{good}\n\n{second}\n")).unwrap();
        benchmark("data_collection")
            .unwrap()
            .load(&DatasetArgs {
                local_path: Some(path),
                ..Default::default()
            })
            .unwrap_err()
    };
    let mut v = good.clone();
    v["index"] = json!(1);
    v["prompt"].as_object_mut().unwrap().remove("target");
    let e = case(v).to_string();
    assert!(
        e.ends_with("bad.jsonl:3: field `prompt.target`: missing"),
        "{e}"
    );
    let mut v = good.clone();
    v["index"] = json!(1);
    v["weight"] = json!("heavy");
    let e = case(v).to_string();
    assert!(e.contains("bad.jsonl:3: field `weight`"), "{e}");
    let mut v = good.clone();
    v["index"] = json!(1);
    v["dataset_name"] = json!("no_such_bench");
    let e = case(v);
    assert!(matches!(e, EvalError::BadRecord { line: 3, .. }), "{e}");
    assert!(
        e.to_string()
            .contains("field `dataset_name`: unknown benchmark \"no_such_bench\""),
        "{e}"
    );
    let e = case(good.clone()).to_string();
    assert!(
        e.contains("bad.jsonl:3: field `index`: index 0 appears twice"),
        "{e}"
    );
    let mut v = good.clone();
    v["index"] = json!(1);
    v["prompt"]["input"] = json!([{"content": "no role"}]);
    let e = case(v).to_string();
    assert!(
        e.contains(":3: field `prompt.input[0]`: missing `role`"),
        "{e}"
    );
    // EvalScope's own lines: string input, list target
    let path = dir.path().join("evalscope.jsonl");
    let mut v = good.clone();
    v["prompt"]["input"] = json!("plain question");
    v["prompt"]["target"] = json!(["A", "C"]);
    std::fs::write(&path, format!("{v}\n")).unwrap();
    let lines = read_lines(&path).unwrap();
    let s = lines[0].1.original().unwrap();
    assert_eq!(
        s.messages,
        [json!({"role": "user", "content": "plain question"})]
    );
    assert_eq!(s.gold, "AC");
    assert_eq!(s.id, "main_0");
}

fn entry(
    task: &str,
    dataset: &str,
    subset: &str,
    tags: &[&str],
    cats: &[&str],
    score: f64,
    w: f64,
) -> ScoredEntry {
    ScoredEntry {
        task_type: task.into(),
        categories: cats.iter().map(|s| (*s).into()).collect(),
        dataset_name: dataset.into(),
        subset_name: subset.into(),
        tags: tags.iter().map(|s| (*s).into()).collect(),
        sample_id: format!("{dataset}/{subset}"),
        metric: "acc".into(),
        score,
        weight: w,
    }
}

#[test]
fn the_report_aggregates_by_subset_dataset_task_tag_and_category() {
    let e = vec![
        entry(
            "math",
            "math_500",
            "Level 1",
            &["en"],
            &["q", "Math"],
            1.0,
            0.1,
        ),
        entry(
            "math",
            "math_500",
            "Level 1",
            &["en"],
            &["q", "Math"],
            1.0,
            0.1,
        ),
        entry(
            "math",
            "math_500",
            "Level 2",
            &["en"],
            &["q", "Math"],
            0.0,
            0.1,
        ),
        entry("math", "gsm8k", "main", &["en"], &["q", "Math"], 0.0, 0.3),
        entry("exam", "iquiz", "IQ", &["zh"], &["q", "Chinese"], 1.0, 0.2),
        entry(
            "exam",
            "iquiz",
            "EQ",
            &["zh", "x"],
            &["q", "Chinese"],
            0.0,
            0.2,
        ),
    ];
    let r = collection_report(&e);
    let v = serde_json::to_value(&r).unwrap();
    // subset level: micro only, by count then key order
    assert_eq!(
        v["subset_level"][0],
        json!({"task_type": "math", "dataset_name": "math_500", "subset_name": "Level 1", "micro_avg.": 1.0, "count": 2})
    );
    assert_eq!(v["subset_level"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["subset_level"][1]["subset_name"], "EQ",
        "ties keep key order: exam < math"
    );
    // dataset level: math_500 micro 2/3, macro mean(1, 0) = 0.5, weighted (0.1+0.1)/0.3
    assert_eq!(
        v["dataset_level"][0],
        json!({"task_type": "math", "dataset_name": "math_500", "micro_avg.": 0.6667, "macro_avg.": 0.5, "weighted_avg.": 0.6667, "count": 3})
    );
    assert_eq!(
        v["dataset_level"][1],
        json!({"task_type": "exam", "dataset_name": "iquiz", "micro_avg.": 0.5, "macro_avg.": 0.5, "weighted_avg.": 0.5, "count": 2})
    );
    // task level: math = 4 samples, micro 0.5, macro over subsets (1, 0, 0) = 0.3333,
    // weighted 0.2 / 0.6
    assert_eq!(
        v["task_level"][0],
        json!({"task_type": "math", "micro_avg.": 0.5, "macro_avg.": 0.3333, "weighted_avg.": 0.3333, "count": 4})
    );
    // tags explode: en 4, zh 2, x 1
    let tags: Vec<(String, u64)> = v["tag_level"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["tags"].as_str().unwrap().to_owned(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(tags, [("en".into(), 4), ("zh".into(), 2), ("x".into(), 1)]);
    assert_eq!(
        v["category_level"][0],
        json!({"category0": "q", "category1": "Math", "micro_avg.": 0.5, "macro_avg.": 0.3333, "weighted_avg.": 0.3333, "count": 4})
    );
    assert_eq!(
        overview_rows(&e),
        [
            ("math".into(), "acc".into(), "math_500".into(), 0.6667, 3),
            ("exam".into(), "acc".into(), "iquiz".into(), 0.5, 2),
            ("math".into(), "acc".into(), "gsm8k".into(), 0.0, 1),
        ]
    );
    let report = benchmark_report("m", &e);
    assert_eq!(report.dataset_name, "data_collection");
    assert_eq!(report.num, 6);
    assert_eq!(report.score, 0.5);
    let cats: Vec<Vec<String>> = report.metrics[0]
        .categories
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(
        cats,
        [
            vec!["q".to_owned(), "Chinese".into()],
            vec!["q".into(), "Math".into()]
        ]
    );
    assert_eq!(
        report.metrics[0].categories[1].subsets[0].name,
        "gsm8k/main"
    );
}
