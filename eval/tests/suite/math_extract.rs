//! Answer extraction: boxes and EvalScope's fallbacks.

use swarm_eval::math::{extract_answer, extract_last_boxed, math_equal};

#[test]
fn last_boxed_handles_nesting_and_order() {
    let cases: &[(&str, Option<&str>)] = &[
        (r"The answer is \boxed{42}.", Some("42")),
        (r"\boxed{\frac{1}{2}}", Some(r"\frac{1}{2}")),
        (
            r"$\boxed{\left\{ 1, \frac{2}{3} \right\}}$",
            Some(r"\left\{ 1, \frac{2}{3} \right\}"),
        ),
        (r"first \boxed{1}, then \boxed{2}", Some("2")),
        (r"\boxed{a} and \fbox{b}", Some("b")),
        (r"\fbox{b} and \boxed{a}", Some("a")),
        (r"so $\boxed 5$.", Some("5")),
        (r"\boxed {7}", Some("7")),
        (r"\boxed{x^{2^{3}}}", Some("x^{2^{3}}")),
        (r"\boxed{\{1,2\}}", Some(r"\{1,2\}")),
        (r"\boxed{}", Some("")),
        (r"good \boxed{3} then truncated \boxed{4", Some("3")),
        (r"\boxed{unclosed", None),
        ("no box at all, 42", None),
        ("", None),
        (r"\boxedfoo{3}", None),
    ];
    for (text, expected) in cases {
        assert_eq!(extract_last_boxed(text).as_deref(), *expected, "{text:?}");
    }
}

#[test]
fn extract_answer_follows_evalscope_order() {
    // EvalScope 1.14.1's `evalscope.metrics.math.parser.extract_answer` delegates to
    // Math-Verify 0.9.0's `parse` (boxed and "final answer is … I hope" first, then "answer"
    // anchors, then the rightmost LaTeX / number) and shows the normalised match; it no longer
    // runs Qwen2.5-Math's `strip_answer_string`. Expected values are its outputs (the older
    // Qwen-style extraction, `extract_answer_qwen`, gave `\frac{3}{4}`, `5`, `10`, `12`,
    // `3items`).
    let cases: &[(&str, &str)] = &[
        (
            r"\boxed{1} Final Answer: The final answer is $2$. I hope it is correct.",
            "2",
        ),
        // boxes close together are all kept, joined by commas
        (
            r"so \boxed{\dfrac{1}{2}} or \boxed{\dfrac{3}{4}}",
            r"\frac{1}{2},\frac{3}{4}",
        ),
        (r"$\boxed{x = 5}$", "x = 5"),
        (r"$\boxed 7$ apples", "7"),
        (r"\boxed{10\%}.", r"10\%"),
        // an unclosed box gives nothing
        (r"\boxed{12", ""),
        ("The answer is 3. Wait, the answer is 4.", "4"),
        ("the answer is: 17", "17"),
        ("so the final answer is 8", "8"),
        ("答案是 42\n\n其他", "42"),
        ("ANSWER: 9", "9"),
        ("We have 1,234 apples and 5.5 pears", "5.5"),
        ("temperature -3 degrees", "-3"),
        ("no numbers", ""),
        ("", ""),
        ("I boxed 3 items$ in total 5", "5"),
        ("boxed", ""),
        ("\u{43a}\u{438}The answer is 6", "6"),
    ];
    for (text, expected) in cases {
        assert_eq!(extract_answer(text), *expected, "{text:?}");
    }
}

#[test]
fn extract_answer_fallback_is_last_number_for_gsm8k_style_text() {
    let text = "Natalia sold 48/2 = 24 clips in May.\nAltogether 48+24 = 72 clips.\n#### 72";
    assert_eq!(extract_answer(text), "72");
}

#[test]
fn matches_evalscope_gsm8k_reviews() {
    let fixture = include_str!("../fixtures/math/evalscope_gsm8k_reviews.jsonl");
    let mut n = 0;
    for line in fixture.lines() {
        let r: serde_json::Value = serde_json::from_str(line).expect("fixture line is JSON");
        let prediction = r["prediction"].as_str().expect("prediction");
        let extracted = extract_answer(prediction);
        assert_eq!(
            extracted,
            r["extracted_prediction"].as_str().expect("extracted"),
            "{line}"
        );
        let target = r["target"].as_str().expect("target");
        let acc = r["acc"].as_f64().expect("acc") == 1.0;
        assert_eq!(math_equal(&extracted, target), acc, "{line}");
        n += 1;
    }
    assert_eq!(n, 20);
}
