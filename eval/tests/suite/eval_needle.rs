//! needle_haystack against EvalScope 1.14.1: prompts generated from the fixture haystacks with
//! the SmolLM2 tokenizer equal, byte for byte, what EvalScope's own adapter code generates
//! (`fixtures/eval/needle_haystack/reference.json`, written by `make_reference.py` beside it);
//! rule scores, the judge request, the length grid and the per-cell report metrics.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use swarm_eval::benchmarks::needle_haystack::cells::{Cell, subset_cells};
use swarm_eval::benchmarks::needle_haystack::params::{Params, linspace_rounded};
use swarm_eval::benchmarks::needle_haystack::{NeedleHaystack, score};
use swarm_eval::judge::{self, JudgeContract, JudgeKind, JudgeStrategy, ScoringPolicy, prompt};
use swarm_eval::report::{ReportSpec, ScoredSample, build_report};
use swarm_eval::{Benchmark, DatasetArgs, Sample};

use super::shared::{shared_data, skipped};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/needle_haystack")
}

fn reference() -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("reference.json")).expect("reference");
    serde_json::from_str(&text).expect("reference json")
}

fn tokenizer() -> Option<PathBuf> {
    let dir = shared_data().join("tokenizers/smollm2-135m");
    dir.join("tokenizer.json").is_file().then_some(dir)
}

fn args(config: &Value, tokenizer: &Path) -> DatasetArgs {
    let mut extra = config.as_object().expect("config").clone();
    extra.insert(
        "tokenizer_path".into(),
        json!(tokenizer.display().to_string()),
    );
    DatasetArgs {
        local_path: Some(fixture_dir()),
        extra_params: extra,
        ..DatasetArgs::default()
    }
}

fn check_against(reference: &Value, samples: &[Sample]) {
    let expected = reference.as_array().expect("samples");
    assert_eq!(samples.len(), expected.len());
    let system = reference_meta()["system_prompt"].clone();
    let mut index = std::collections::BTreeMap::<String, usize>::new();
    for (s, e) in samples.iter().zip(expected) {
        let subset = e["subset"].as_str().expect("subset");
        let i = index.entry(subset.to_owned()).or_default();
        assert_eq!(s.id, format!("{subset}_{i}"));
        *i += 1;
        assert_eq!(s.subset, subset);
        assert_eq!(
            s.metadata["context_length"], e["context_length"],
            "{}",
            s.id
        );
        assert_eq!(s.metadata["depth_percent"], e["depth_percent"], "{}", s.id);
        assert_eq!(s.gold, e["target"].as_str().expect("target"));
        assert_eq!(s.messages.len(), 2, "{}", s.id);
        assert_eq!(s.messages[0], json!({"role": "system", "content": system}));
        let ours = s.messages[1]["content"].as_str().expect("prompt");
        let theirs = e["prompt"].as_str().expect("prompt");
        assert!(
            ours == theirs,
            "{}: prompt differs from EvalScope's\nours:\n{ours}\ntheirs:\n{theirs}",
            s.id
        );
    }
}

fn reference_meta() -> Value {
    reference()["meta"].clone()
}

#[test]
fn prompts_equal_evalscopes_token_for_token() {
    let Some(tok) = tokenizer() else {
        skipped(
            "eval_needle::prompts",
            "the SmolLM2 tokenizer in ../shared is absent",
        );
        return;
    };
    let r = reference();
    let samples = NeedleHaystack
        .load(&args(&r["config"], &tok))
        .expect("load");
    check_against(&r["samples"], &samples);
    // the judge's "question" for a sample: EvalScope's input_text, the whole conversation
    assert_eq!(
        prompt::question_text(&samples[0].messages),
        r["judge_input_text_english_0"]
            .as_str()
            .expect("input text")
    );
    // and the judge's whole request for it, as EvalScope's judge_definition builds it
    let j = &r["judge_request"];
    assert_eq!(samples[0].id, j["sample_id"].as_str().expect("id"));
    let pred = j["pred"].as_str().expect("pred");
    let ours = prompt::request(
        NeedleHaystack.judge_kind(),
        &JudgeContract::default(),
        &samples[0].messages,
        &samples[0].gold,
        (pred, pred),
    );
    assert_eq!(json!(ours), j["messages"]);
    // one sample pinned in full here: english, 300 tokens, needle at depth 33
    let pinned = samples
        .iter()
        .find(|s| s.id == "english_1")
        .expect("english_1");
    let prompt = pinned.messages[1]["content"].as_str().expect("prompt");
    assert!(prompt.starts_with(
        "Please read the following text and answer the question below.\n\n<text>\nOn Keeping a Lighthouse\n"
    ));
    assert!(prompt.contains(
        "That is the point.\nThe best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day.\n A lighthouse that"
    ), "{prompt}");
    assert!(prompt.ends_with(
        "\n</text>\n\n<question>\nWhat is the best thing to do in San Francisco?\n</question>\n\nDon't give information outside the document or repeat your findings."
    ));
}

#[test]
fn several_needles_are_spread_as_evalscope_spreads_them() {
    let Some(tok) = tokenizer() else {
        skipped(
            "eval_needle::several_needles",
            "the SmolLM2 tokenizer in ../shared is absent",
        );
        return;
    };
    let r = reference();
    let samples = NeedleHaystack
        .load(&args(&r["multi_needle_config"], &tok))
        .expect("load");
    check_against(&r["multi_needle_samples"], &samples);
}

#[test]
fn subset_list_and_limit_pick_samples_in_evalscopes_order() {
    let Some(tok) = tokenizer() else {
        skipped(
            "eval_needle::subset_list",
            "the SmolLM2 tokenizer in ../shared is absent",
        );
        return;
    };
    let r = reference();
    let mut a = args(&r["config"], &tok);
    a.subset_list = vec!["chinese".into()];
    a.limit = Some(5);
    let samples = NeedleHaystack.load(&a).expect("load");
    let ids: Vec<&str> = samples.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "chinese_0",
            "chinese_1",
            "chinese_2",
            "chinese_3",
            "chinese_4"
        ]
    );
    // lengths vary slowest: the fifth sample is the second length at the first depth
    assert_eq!(samples[4].metadata["context_length"], json!(750));
    assert_eq!(samples[4].metadata["depth_percent"], json!(0));
    let expected: Vec<&Value> = r["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter(|s| s["subset"] == "chinese")
        .take(5)
        .collect();
    for (s, e) in samples.iter().zip(expected) {
        assert_eq!(s.messages[1]["content"], e["prompt"]);
    }
}

#[test]
fn the_grid_is_numpys_rounded_linspace() {
    let r = reference();
    let pair =
        |v: &Value| -> (Vec<i64>, Vec<i64>) { serde_json::from_value(v.clone()).expect("lengths") };
    let (l, d) = pair(&r["default_lengths"]);
    assert_eq!(linspace_rounded(1000, 32000, 10), l);
    assert_eq!(linspace_rounded(0, 100, 10), d);
    // halves round to even: 1.5 → 2, 2.5 → 2, 3.5 → 4; 12.5 → 12, 37.5 → 38
    let (l, d) = pair(&r["tie_lengths"]);
    assert_eq!(linspace_rounded(1, 4, 7), l);
    assert_eq!(linspace_rounded(0, 100, 9), d);
    let (l, d) = pair(&r["one_interval"]);
    assert_eq!(linspace_rounded(700, 900, 1), l);
    assert_eq!(linspace_rounded(30, 60, 1), d);
    // the defaults when only the tokenizer is given
    let p = Params::from_extra(json!({"tokenizer_path": "t"}).as_object().expect("object"))
        .expect("params");
    let (l, d) = pair(&r["default_lengths"]);
    assert_eq!((p.context_lengths, p.depth_percents), (l, d));
    let defaults = &r["extra_params_defaults"];
    assert_eq!(p.retrieval_question, defaults["retrieval_question"]);
    assert_eq!(json!(p.needles), defaults["needles"]);
    assert_eq!(json!(p.show_score), defaults["show_score"]);
    assert_eq!(
        p.system_prompt.as_deref(),
        reference_meta()["system_prompt"].as_str()
    );
}

#[test]
fn template_and_meta_are_evalscopes() {
    let meta = reference_meta();
    assert_eq!(
        swarm_eval::benchmarks::needle_haystack::PROMPT_TEMPLATE,
        meta["prompt_template"].as_str().expect("template")
    );
    let ours = NeedleHaystack.meta();
    assert_eq!(ours.name, meta["name"]);
    assert_eq!(ours.pretty_name, meta["pretty_name"]);
    assert_eq!(json!(ours.subsets), meta["subset_list"]);
    assert_eq!(ours.eval_split, meta["eval_split"]);
    assert_eq!(
        swarm_eval::benchmarks::needle_haystack::HUB_DATASET,
        meta["dataset_id"]
    );
}

#[test]
fn rule_scores_equal_evalscopes_match_score() {
    let r = reference();
    let s = &r["scores"];
    let gold = s["gold"].as_str().expect("gold");
    assert_eq!(score::normalize_answer(gold), s["normalized_gold"]);
    let sample = Sample {
        id: "english_0".into(),
        benchmark: "needle_haystack".into(),
        subset: "english".into(),
        messages: vec![],
        gold: gold.into(),
        choices: vec![],
        metadata: Default::default(),
    };
    let cases = s["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 7);
    for c in cases {
        let pred = c["prediction"].as_str().expect("prediction");
        assert_eq!(score::normalize_answer(pred), c["normalized"], "{pred:?}");
        let extracted = NeedleHaystack.extract(pred, &sample);
        let ours = NeedleHaystack.score(&extracted, &sample);
        assert_eq!(ours.main, "acc");
        assert_eq!(
            ours.values["acc"],
            c["acc"].as_f64().expect("acc"),
            "{pred:?}"
        );
    }
}

/// The judge's request for a needle sample equals EvalScope's byte for byte (built from the
/// reference's own prompt, so no tokenizer is needed): EvalScope's `GENERAL_ORM_PROMPT` as the
/// system message, `ORM_USER_TEMPLATE` with the sample's input text, the needles and the
/// *filtered* prediction, then the rating contract.
#[test]
fn the_judge_request_is_evalscopes() {
    let r = reference();
    let j = &r["judge_request"];
    let first = &r["samples"][0];
    assert_eq!(first["subset"], "english");
    let messages = vec![
        json!({"role": "system", "content": reference_meta()["system_prompt"]}),
        json!({"role": "user", "content": first["prompt"]}),
    ];
    let gold = j["gold"].as_str().expect("gold");
    let pred = j["pred"].as_str().expect("pred");
    let kind = NeedleHaystack.judge_kind();
    assert_eq!(kind, JudgeKind::Custom(&prompt::ORM_SCALE_10));
    let ours = prompt::request(
        kind,
        &JudgeContract::default(),
        &messages,
        gold,
        ("unfiltered", pred),
    );
    assert_eq!(json!(ours), j["messages"]);
    let user = ours[1]["content"].as_str().expect("user");
    assert!(user.contains("\n\nModel Answer: Eat a sandwich in Dolores Park.\n"));
    assert!(
        !user.contains("unfiltered"),
        "the filtered prediction is judged"
    );
}

/// EvalScope's `ScoringPolicy.JUDGE_DEFAULT`: `auto` asks the judge, so `auto` without a judge is
/// refused before any request (naming the benchmark and the flag); `rule` and `llm_recall` are
/// honoured (the rule is usable).
#[test]
fn auto_needs_a_judge_and_rule_scores_without_one() {
    let policy = NeedleHaystack.scoring_policy();
    assert_eq!(policy, ScoringPolicy::JudgeDefault);
    let e = judge::validate("needle_haystack", JudgeStrategy::Auto, policy, false)
        .expect_err("auto without a judge");
    assert!(
        e.contains("\"needle_haystack\"")
            && e.contains("--judge-model-args")
            && e.contains("\"auto\""),
        "{e}"
    );
    assert!(judge::validate("needle_haystack", JudgeStrategy::Llm, policy, false).is_err());
    for ok in [
        (JudgeStrategy::Rule, false),
        (JudgeStrategy::Auto, true),
        (JudgeStrategy::Llm, true),
        (JudgeStrategy::LlmRecall, true),
    ] {
        assert_eq!(
            judge::validate("needle_haystack", ok.0, policy, ok.1),
            Ok(()),
            "{ok:?}"
        );
    }
    assert!(judge::uses_judge(JudgeStrategy::Auto, policy));
}

#[test]
fn missing_inputs_are_named() {
    let no_tok = DatasetArgs {
        local_path: Some(fixture_dir()),
        ..DatasetArgs::default()
    };
    let e = NeedleHaystack
        .load(&no_tok)
        .expect_err("no tokenizer")
        .to_string();
    assert!(
        e.contains("extra_params.tokenizer_path") && e.contains("Qwen/Qwen3-0.6B"),
        "{e}"
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut a = args(&json!({}), Path::new("/nonexistent/tokenizer"));
    a.local_path = Some(tmp.path().to_path_buf());
    let e = NeedleHaystack
        .load(&a)
        .expect_err("no haystack")
        .to_string();
    assert!(
        e.contains("PaulGraham_Essays.txt")
            && e.contains("AI-ModelScope/Needle-in-a-Haystack-Corpus"),
        "{e}"
    );
    a.subset_list = vec!["klingon".into()];
    assert!(NeedleHaystack.load(&a).is_err());

    let e = Params::from_extra(
        json!({"tokenizer_path": "t", "needle": "x"})
            .as_object()
            .expect("o"),
    )
    .expect_err("unknown key")
    .to_string();
    assert!(e.contains("extra_params.needle`"), "{e}");
    let e = Params::from_extra(
        json!({"tokenizer_path": "t", "context_lengths_num_intervals": 0})
            .as_object()
            .expect("o"),
    )
    .expect_err("no intervals")
    .to_string();
    assert!(e.contains("context_lengths_num_intervals"), "{e}");

    let Some(tok) = tokenizer() else {
        return;
    };
    let mut a = args(
        &json!({"context_lengths_min": 160, "context_lengths_max": 400}),
        &tok,
    );
    a.subset_list = vec!["english".into()];
    let e = NeedleHaystack.load(&a).expect_err("too short").to_string();
    assert!(
        e.contains("context length 160") && e.contains("context_lengths_min"),
        "{e}"
    );
}

fn scored(sample: &Sample, acc: f64) -> ScoredSample {
    ScoredSample {
        subset: sample.subset.clone(),
        sample_id: sample.id.clone(),
        values: [("acc".to_owned(), acc)].into(),
    }
}

fn cell_sample(subset: &str, index: usize, length: i64, depth: i64) -> Sample {
    Sample {
        id: format!("{subset}_{index}"),
        benchmark: "needle_haystack".into(),
        subset: subset.into(),
        messages: vec![],
        gold: String::new(),
        choices: vec![],
        metadata: json!({"context_length": length, "depth_percent": depth})
            .as_object()
            .expect("metadata")
            .clone(),
    }
}

#[test]
fn the_report_has_the_overall_accuracy_then_one_metric_per_cell() {
    // two lengths × two depths × two subsets; english right except at (2000, 100), chinese right
    // only at depth 0; plus a repeat of english (1000, 0) answered wrongly
    let mut samples = Vec::new();
    let mut scores = Vec::new();
    for subset in ["english", "chinese"] {
        let mut i = 0;
        for length in [2000, 1000] {
            for depth in [100, 0] {
                let s = cell_sample(subset, i, length, depth);
                let acc = match subset {
                    "english" => f64::from(u8::from(!(length == 2000 && depth == 100))),
                    _ => f64::from(u8::from(depth == 0)),
                };
                scores.push(scored(&s, acc));
                samples.push(s);
                i += 1;
            }
        }
    }
    samples.push(samples[3].clone());
    scores.push(scored(&samples[3], 0.0));
    let bench = NeedleHaystack;
    let spec = ReportSpec::of(&bench);
    let mut report = build_report("m", &spec, &scores);
    let pairs: Vec<(&Sample, &ScoredSample)> = samples.iter().zip(&scores).collect();
    report
        .metrics
        .extend(bench.extra_report_metrics(&spec, &pairs));
    let names: Vec<&str> = report.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mean_acc",
            "Context#1000 Depth#0",
            "Context#1000 Depth#100",
            "Context#2000 Depth#0",
            "Context#2000 Depth#100"
        ]
    );
    // the report's score stays the overall accuracy: (3 + 2) / 9 samples
    assert_eq!(report.score, 0.5556);
    assert_eq!(report.num, 9);
    let subset = |m: usize, name: &str| {
        report.metrics[m]
            .categories
            .iter()
            .flat_map(|c| &c.subsets)
            .find(|s| s.name == name)
            .map(|s| (s.score, s.num))
    };
    assert_eq!(subset(1, "english"), Some((0.5, 2)));
    assert_eq!(subset(1, "chinese"), Some((1.0, 1)));
    assert_eq!(subset(4, "english"), Some((0.0, 1)));
    assert_eq!(subset(3, "chinese"), Some((1.0, 1)));
    assert_eq!(report.metrics[1].score, 0.6667);

    let grids = subset_cells(&report);
    assert_eq!(grids.len(), 2);
    assert_eq!(grids[0].subset, "english");
    let cell = |l, d| Cell {
        context_length: l,
        depth_percent: d,
    };
    assert_eq!(
        grids[0].cells,
        vec![
            (cell(1000, 0), 0.5, 2),
            (cell(1000, 100), 1.0, 1),
            (cell(2000, 0), 1.0, 1),
            (cell(2000, 100), 0.0, 1)
        ]
    );
    assert_eq!(grids[1].subset, "chinese");
    assert_eq!(
        grids[1].cells.iter().map(|c| c.1).collect::<Vec<_>>(),
        [1.0, 0.0, 1.0, 0.0]
    );
}

/// Judged scores are fractions (`verdict / 10`): each cell is the mean of its samples' judged
/// `acc`, rounded to 4 decimals as EvalScope's report rounds it (values from Python's
/// `round(sum(v) / len(v), 4)`), and the heat-map reads those cells.
#[test]
fn judged_fractional_scores_fill_the_cells_rounded_as_evalscope() {
    let scale = prompt::Contract::Scale(10.0);
    let no_labels = std::collections::BTreeMap::new();
    let judged = |verdict: &str| {
        let reply = format!(r#"{{"reasoning": "r", "verdict": {verdict}}}"#);
        judge::parse::parse(&reply, &scale, &no_labels, "acc")
            .expect("verdict")
            .value["acc"]
    };
    // (length, depth) → the judge's verdicts for that cell's english samples
    let grid: [((i64, i64), &[&str]); 4] = [
        ((1000, 0), &["7", "10", "0"]),
        ((1000, 100), &["2.5", "0", "5"]),
        ((2000, 0), &["1.5", "3"]),
        ((2000, 100), &["3.3333333333333335"]),
    ];
    let mut samples = Vec::new();
    let mut scores = Vec::new();
    for ((length, depth), verdicts) in grid {
        for v in verdicts {
            let s = cell_sample("english", samples.len(), length, depth);
            scores.push(scored(&s, judged(v)));
            samples.push(s);
        }
    }
    let bench = NeedleHaystack;
    let spec = ReportSpec::of(&bench);
    let mut report = build_report("m", &spec, &scores);
    let pairs: Vec<(&Sample, &ScoredSample)> = samples.iter().zip(&scores).collect();
    report
        .metrics
        .extend(bench.extra_report_metrics(&spec, &pairs));
    assert_eq!(report.score, 0.3593);
    let cells: Vec<(f64, usize)> = subset_cells(&report)[0]
        .cells
        .iter()
        .map(|(_, score, num)| (*score, *num))
        .collect();
    assert_eq!(cells, [(0.5667, 3), (0.25, 3), (0.225, 2), (0.3333, 1)]);
}
