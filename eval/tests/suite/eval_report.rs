//! Report aggregation: subset means, categories, micro and macro scores rounded as EvalScope
//! rounds them, `mean_<metric>` names and their aliases, and the pass@k estimator.

use std::collections::BTreeMap;

use swarm_eval::report::{
    Aggregation, ReportSpec, ScoredSample, build_report, canonical_metric_name, head_metric_name,
    legacy_metric_name, pass_at_k, round4,
};

fn scored(subset: &str, id: &str, acc: f64) -> ScoredSample {
    ScoredSample {
        subset: subset.to_owned(),
        sample_id: id.to_owned(),
        values: BTreeMap::from([("acc".to_owned(), acc)]),
    }
}

fn spec(subsets: &[&str], categories: &[(&str, &str)], aggregation: Aggregation) -> ReportSpec {
    ReportSpec {
        dataset_name: "demo".to_owned(),
        pretty_name: "Demo".to_owned(),
        metrics: vec!["acc".to_owned()],
        subsets: subsets.iter().map(|s| (*s).to_owned()).collect(),
        categories: categories
            .iter()
            .map(|(s, c)| ((*s).to_owned(), vec![(*c).to_owned()]))
            .collect(),
        aggregation,
    }
}

#[test]
fn pass_at_k_matches_the_numpy_estimator_bit_for_bit() {
    // Expected values: 1.0 - numpy.prod(1.0 - k / numpy.arange(n - c + 1, n + 1)).
    assert_eq!(pass_at_k(5, 2, 1), 0.3999999999999999);
    assert_eq!(pass_at_k(5, 4, 1), 0.8);
    assert_eq!(pass_at_k(10, 3, 2), 0.5333333333333332);
    assert_eq!(pass_at_k(4, 1, 2), 0.5);
    assert_eq!(pass_at_k(16, 5, 4), 0.8186813186813187);
    // All wrong: 0; fewer wrong than k: 1.
    assert_eq!(pass_at_k(8, 0, 3), 0.0);
    assert_eq!(pass_at_k(5, 4, 2), 1.0);
    assert_eq!(pass_at_k(3, 3, 1), 1.0);
    // One sample: pass@1 is the score itself.
    assert_eq!(pass_at_k(1, 1, 1), 1.0);
    assert_eq!(pass_at_k(1, 0, 1), 0.0);
}

#[test]
fn round4_is_pythons_round() {
    assert_eq!(round4(0.85), 0.85);
    assert_eq!(round4(2.0 / 3.0), 0.6667);
    assert_eq!(round4(0.96666666), 0.9667);
    // Exact binary ties go to even, as Python's round does: 0.03125 → 0.0312, 0.15625 → 0.1562.
    assert_eq!(round4(0.03125), 0.0312);
    assert_eq!(round4(0.15625), 0.1562);
    // Not a tie in binary: 0.00015 is stored below the half.
    assert_eq!(round4(0.00015), 0.0001);
}

#[test]
fn subsets_fold_into_categories_with_micro_and_macro_scores() {
    let mut samples = Vec::new();
    // physics: 2/3, law: 1/1, math: 0/2 (math and physics share the STEM category).
    for (i, acc) in [1.0, 1.0, 0.0].into_iter().enumerate() {
        samples.push(scored("physics", &format!("physics_{i}"), acc));
    }
    samples.push(scored("law", "law_0", 1.0));
    samples.push(scored("math", "math_0", 0.0));
    samples.push(scored("math", "math_1", 0.0));
    let spec = spec(
        &["math", "physics", "law"],
        &[("math", "STEM"), ("physics", "STEM"), ("law", "Humanities")],
        Aggregation::Mean,
    );
    let report = build_report("m", &spec, &samples);
    assert_eq!(report.name, "m@demo");
    assert_eq!(report.num, 6);
    let metric = &report.metrics[0];
    assert_eq!(metric.name, "mean_acc");
    // Categories in order of first appearance over the spec's subset order.
    let names: Vec<_> = metric.categories.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        names,
        [vec!["STEM".to_owned()], vec!["Humanities".to_owned()]]
    );
    let stem = &metric.categories[0];
    let subsets: Vec<_> = stem
        .subsets
        .iter()
        .map(|s| (s.name.as_str(), s.score, s.num))
        .collect();
    assert_eq!(subsets, [("math", 0.0, 2), ("physics", 0.6667, 3)]);
    // Micro over rounded subset scores: (0·2 + 0.6667·3) / 5; macro: (0 + 0.6667) / 2.
    assert_eq!((stem.num, stem.score, stem.macro_score), (5, 0.4, 0.3333));
    // Metric level works from the rounded category scores: (0.4·5 + 1·1) / 6, (0.4 + 1) / 2.
    assert_eq!(
        (metric.num, metric.score, metric.macro_score),
        (6, 0.5, 0.7)
    );
    assert_eq!(report.score, 0.5);
}

#[test]
fn pass_at_k_aggregation_adds_per_n_metrics_over_repeats() {
    // Two samples, three repeats each: 2/3 and 0/3 correct.
    let mut samples = Vec::new();
    for acc in [1.0, 0.0, 1.0] {
        samples.push(scored("default", "default_0", acc));
    }
    for _ in 0..3 {
        samples.push(scored("default", "default_1", 0.0));
    }
    let report = build_report(
        "m",
        &spec(&["default"], &[], Aggregation::MeanAndPassAtK),
        &samples,
    );
    let names: Vec<_> = report.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "mean_acc",
            "mean_acc_pass@1",
            "mean_acc_pass@2",
            "mean_acc_pass@3"
        ]
    );
    let scores: Vec<_> = report.metrics.iter().map(|m| m.score).collect();
    // pass@1 = c/n: (2/3 + 0) / 2; pass@2 and pass@3 are 1 for the first sample (only one
    // wrong answer to draw), 0 for the second.
    assert_eq!(scores, [0.3333, 0.3333, 0.5, 0.5]);
    assert_eq!(report.metrics[1].num, 6);
    assert_eq!(report.score, 0.3333);
}

#[test]
fn metric_names_have_head_and_legacy_aliases() {
    assert_eq!(
        head_metric_name("mean_acc").as_deref(),
        Some("accuracy:mean")
    );
    assert_eq!(
        head_metric_name("mean_acc_pass@1").as_deref(),
        Some("accuracy:pass_at_k[k=1]")
    );
    assert_eq!(
        head_metric_name("mean_prompt_level_strict").as_deref(),
        Some("prompt_level_strict:mean")
    );
    assert_eq!(
        legacy_metric_name("gsm8k", "mean_acc").as_deref(),
        Some("AverageAccuracy")
    );
    assert_eq!(
        legacy_metric_name("math_500", "mean_acc").as_deref(),
        Some("AveragePass@1")
    );
    assert_eq!(
        legacy_metric_name("humaneval", "mean_acc_pass@1").as_deref(),
        Some("Pass@1")
    );
    assert_eq!(
        legacy_metric_name("ifeval", "mean_inst_level_loose").as_deref(),
        Some("inst_level_loose_acc")
    );
    for (alias, canonical) in [
        ("AverageAccuracy", "mean_acc"),
        ("AveragePass@1", "mean_acc"),
        ("Pass@1", "mean_acc_pass@1"),
        ("Pass@4", "mean_acc_pass@4"),
        ("accuracy:mean", "mean_acc"),
        ("accuracy:pass_at_k[k=2]", "mean_acc_pass@2"),
        ("prompt_level_strict_acc", "mean_prompt_level_strict"),
        ("prompt_level_strict:mean", "mean_prompt_level_strict"),
        ("mean_acc", "mean_acc"),
    ] {
        assert_eq!(
            canonical_metric_name(alias).as_deref(),
            Some(canonical),
            "{alias}"
        );
    }
    assert_eq!(canonical_metric_name("bleu"), None);
}

#[test]
fn the_report_serializes_in_evalscope_shape() {
    let report = build_report(
        "qwen",
        &spec(&["default"], &[], Aggregation::Mean),
        &[
            scored("default", "default_0", 1.0),
            scored("default", "default_1", 0.0),
        ],
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "name": "qwen@demo",
            "dataset_name": "demo",
            "dataset_pretty_name": "Demo",
            "model_name": "qwen",
            "score": 0.5,
            "metrics": [{
                "name": "mean_acc",
                "num": 2,
                "score": 0.5,
                "macro_score": 0.5,
                "categories": [{
                    "name": ["default"],
                    "num": 2,
                    "score": 0.5,
                    "macro_score": 0.5,
                    "subsets": [{"name": "default", "score": 0.5, "num": 2}]
                }]
            }],
            "num": 2
        })
    );
    assert!(
        build_report("q", &spec(&[], &[], Aggregation::Mean), &[])
            .metrics
            .is_empty()
    );
}

#[test]
fn pass_at_k_tolerates_odd_inputs() {
    assert_eq!(pass_at_k(2, 5, 0), 0.0);
    assert_eq!(pass_at_k(0, 0, 1), 1.0);
    assert_eq!(pass_at_k(3, 1, 0), 0.0);
}
