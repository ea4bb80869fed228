//! Table-driven equivalence checks on real MATH-500 gold answers.

use std::collections::HashSet;

use swarm_eval::math::{MathEqualOptions, math_equal, math_equal_with, strip_answer_string};

const TABLE: &str = include_str!("../fixtures/math/equivalence.tsv");
const ANSWERS: &str = include_str!("../fixtures/math/math500_answers.jsonl");

struct Row<'a> {
    line: usize,
    gold: &'a str,
    candidate: &'a str,
    expected: bool,
    note: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "line {}: expected 4 columns: {l:?}", i + 1);
            let expected = match cols[2] {
                "true" => true,
                "false" => false,
                other => panic!("line {}: bad expected value {other:?}", i + 1),
            };
            Row {
                line: i + 1,
                gold: cols[0],
                candidate: cols[1],
                expected,
                note: cols[3],
            }
        })
        .collect()
}

fn math500_answers() -> Vec<String> {
    ANSWERS
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line is JSON");
            v["answer"]
                .as_str()
                .expect("answer is a string")
                .to_string()
        })
        .collect()
}

#[test]
fn table_has_enough_real_rows() {
    let rows = rows();
    let answers: HashSet<String> = math500_answers().into_iter().collect();
    assert_eq!(math500_answers().len(), 500);
    assert!(rows.len() >= 200, "only {} rows", rows.len());
    assert!(rows.iter().filter(|r| r.expected).count() >= 100);
    assert!(rows.iter().filter(|r| !r.expected).count() >= 60);
    for r in &rows {
        assert!(
            answers.contains(r.gold),
            "line {}: gold {:?} is not a MATH-500 answer",
            r.line,
            r.gold
        );
    }
}

#[test]
fn table_verdicts_match() {
    let failures: Vec<String> = rows()
        .iter()
        .filter(|r| math_equal(r.candidate, r.gold) != r.expected)
        .map(|r| {
            format!(
                "line {}: math_equal({:?}, {:?}) should be {} ({}); normalised {:?} vs {:?}",
                r.line,
                r.candidate,
                r.gold,
                r.expected,
                r.note,
                strip_answer_string(r.candidate),
                strip_answer_string(r.gold)
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_gold_equals_itself_and_its_normal_form() {
    for gold in math500_answers() {
        let normal = strip_answer_string(&gold);
        assert!(math_equal(&gold, &gold), "{gold:?}");
        assert!(math_equal(&normal, &gold), "{normal:?} vs {gold:?}");
        assert_eq!(
            strip_answer_string(&normal),
            normal,
            "normalisation of {gold:?} is not idempotent"
        );
    }
}

#[test]
fn strict_options_differ_where_documented() {
    let strict = MathEqualOptions::STRICT;
    assert!(math_equal("100", "1"));
    assert!(!math_equal_with("100", "1", &strict));
    assert!(math_equal("[1,2)", "(1,2]"));
    assert!(!math_equal_with("[1,2)", "(1,2]", &strict));
    assert!(math_equal_with("(1, 2]", "(1,2]", &strict));
    assert!(math_equal_with("C", r"\text{(C)}", &strict));
    assert!(math_equal_with(r"\frac{1}{2}", "0.5", &strict));
}

#[test]
fn evalscope_answer_pipeline_on_golds() {
    // A completion that boxes the gold must score as correct after extraction.
    for gold in math500_answers() {
        let completion = format!("Some reasoning.\n\nThe final answer is $\\boxed{{{gold}}}$.");
        let extracted = swarm_eval::math::extract_answer(&completion);
        assert!(
            math_equal(&extracted, &strip_answer_string(&gold)),
            "{gold:?} extracted as {extracted:?}"
        );
    }
}
