//! Throughput of math scoring on real MATH-500 pairs. A measurement, not a check:
//! `cargo test --release -p swarm-common --test suite math_timing -- --ignored --nocapture`

use std::hint::black_box;
use std::time::Instant;

use swarm_eval::math::{extract_answer, math_equal, strip_answer_string};

fn pairs() -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for line in include_str!("../fixtures/math/equivalence.tsv").lines() {
        if line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() == 4 {
            pairs.push((cols[1].to_string(), cols[0].to_string()));
        }
    }
    for line in include_str!("../fixtures/math/math500_answers.jsonl").lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("fixture line is JSON");
        let gold = v["answer"].as_str().expect("answer").to_string();
        // what a scorer sees most: an extracted prediction against the gold, right or wrong
        pairs.push((strip_answer_string(&gold), gold.clone()));
        pairs.push((format!("-{gold}"), gold));
    }
    pairs
}

#[test]
#[ignore = "timing measurement; run in release with --nocapture"]
fn math_equal_throughput() {
    let pairs = pairs();
    let rounds = 20;
    let start = Instant::now();
    let mut equal = 0usize;
    for _ in 0..rounds {
        for (pred, gold) in &pairs {
            equal += usize::from(math_equal(black_box(pred), black_box(gold)));
        }
    }
    let elapsed = start.elapsed();
    let calls = pairs.len() * rounds;
    println!(
        "math_equal: {calls} calls over {} pairs in {elapsed:?}: {:.0} calls/s on one core ({equal} equal)",
        pairs.len(),
        calls as f64 / elapsed.as_secs_f64()
    );

    let completions: Vec<String> = pairs
        .iter()
        .map(|(_, gold)| {
            format!(
                "{}Therefore the answer is $\\boxed{{{gold}}}$.",
                "Step: 3 + 4 = 7, so x = 7.\n".repeat(60)
            )
        })
        .collect();
    let start = Instant::now();
    for _ in 0..rounds {
        for (text, (_, gold)) in completions.iter().zip(&pairs) {
            black_box(math_equal(&extract_answer(black_box(text)), gold));
        }
    }
    let elapsed = start.elapsed();
    println!(
        "extract_answer + math_equal on {}-byte completions: {:.0} samples/s on one core",
        completions[0].len(),
        calls as f64 / elapsed.as_secs_f64()
    );
}
