//! EvalScope 1.14.1 math parity: `fixtures/math/evalscope_parity.jsonl` holds varied model
//! answers with EvalScope's own extracted string and score (made by
//! `fixtures/math/make_evalscope_parity.py`). Our gsm8k / math_500 benchmarks (through the
//! registry, as a run calls them) must give every score, and at least 99% of the extracted
//! strings, exactly as EvalScope does.

use std::path::Path;

use serde_json::{Value, json};
use swarm_eval::Sample;
use swarm_eval::registry::benchmark;

#[test]
fn math_extraction_and_scores_match_evalscope() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/math/evalscope_parity.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let (mut total, mut same_extracted, mut same_score, mut excluded) = (0, 0, 0, 0);
    let mut report = String::new();
    for (line_no, line) in text.lines().enumerate() {
        let row: Value = serde_json::from_str(line).unwrap();
        let name = row["benchmark"].as_str().unwrap();
        let answer = row["answer"].as_str().unwrap();
        let gold = row["gold"].as_str().unwrap();
        let want_extracted = row["extracted"].as_str().unwrap();
        let bench = benchmark(name).unwrap();
        let sample: Sample = serde_json::from_value(json!({
            "id": format!("main_{line_no}"),
            "benchmark": name,
            "subset": "main",
            "messages": [],
            "gold": gold,
        }))
        .unwrap();
        let extracted = bench.extract(answer, &sample);
        let score = bench.score(&extracted, &sample);
        let acc = score.values["acc"];
        total += 1;
        if extracted == want_extracted {
            same_extracted += 1;
        } else {
            report.push_str(&format!(
                "line {}: extracted {extracted:?}, EvalScope {want_extracted:?}\n",
                line_no + 1
            ));
        }
        match row["score"].as_f64() {
            // EvalScope excludes a sample whose gold Math-Verify cannot parse.
            None => excluded += 1,
            Some(want) if want == acc => same_score += 1,
            Some(want) => report.push_str(&format!(
                "line {}: score {acc} (extracted {extracted:?}), EvalScope {want} \
                 (extracted {want_extracted:?}, gold {gold:?})\n",
                line_no + 1
            )),
        }
    }
    let scored = total - excluded;
    println!(
        "math parity vs EvalScope 1.14.1: {total} answers, extracted identical {same_extracted}/{total}, \
         scores equal {same_score}/{scored} ({excluded} excluded by EvalScope)"
    );
    print!("{report}");
    assert!(total >= 300, "fixture too small: {total}");
    assert_eq!(
        same_score, scored,
        "scores differ from EvalScope:\n{report}"
    );
    assert!(
        same_extracted * 100 >= total * 99,
        "extracted strings identical for only {same_extracted}/{total}:\n{report}"
    );
}

/// Extraction and scoring throughput over the parity fixture (one core).
#[test]
#[ignore = "timing measurement; run in release with --nocapture"]
fn math_parity_throughput() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/math/evalscope_parity.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["answer"].as_str().unwrap().to_owned(),
                v["gold"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let start = std::time::Instant::now();
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < 2.0 {
        for (answer, gold) in &rows {
            let extracted = swarm_eval::math::extract_answer(answer);
            std::hint::black_box(swarm_eval::math::evalscope_score(&extracted, gold));
            n += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("math parity throughput: {rate:.0} samples/s ({n} samples)");
    let extracted: Vec<String> = rows
        .iter()
        .map(|(a, _)| swarm_eval::math::extract_answer(a))
        .collect();
    let t = std::time::Instant::now();
    for (a, _) in &rows {
        std::hint::black_box(swarm_eval::math::extract_answer(a));
    }
    let te = t.elapsed();
    let t = std::time::Instant::now();
    for (e, (_, g)) in extracted.iter().zip(&rows) {
        std::hint::black_box(swarm_eval::math::evalscope_score(e, g));
    }
    println!(
        "extraction {te:?}, scoring {:?} for {} samples",
        t.elapsed(),
        rows.len()
    );
}

/// Hostile completions: no panic, and bounded time (regex backtracking has a limit).
#[test]
fn hostile_math_answers_are_handled() {
    let inputs = [
        "$".repeat(20_000),
        "\\boxed{".repeat(3_000),
        "{".repeat(10_000) + &"}".repeat(3),
        "1 ".repeat(20_000),
        "Answer: ".repeat(2_000) + "$x",
        "final answer is ".repeat(1_000),
        "\\[".repeat(5_000) + "\\boxed{1}",
        "é$ü\\boxed{ß}\u{0}\\fbox".repeat(500),
        "\\frac".repeat(5_000),
        "\\sqrt".repeat(5_000),
        "(".repeat(5_000) + "1+" + &")".repeat(4_000),
        "2,000 3,000 ".repeat(5_000) + "%",
    ];
    let start = std::time::Instant::now();
    for text in &inputs {
        let extracted = swarm_eval::math::extract_answer(text);
        let _ = swarm_eval::math::evalscope_score(&extracted, "1");
        let _ = swarm_eval::math::evalscope_score(text, text);
    }
    println!("hostile inputs: {:?}", start.elapsed());
}
