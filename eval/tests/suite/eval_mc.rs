//! Multiple-choice formatting and answer extraction against EvalScope v1.10.0's
//! `parse_answers` / `parse_answers_zh`. Expected values were produced by running EvalScope's
//! Python functions (v1.10.0 source) on the same inputs.

use std::collections::BTreeSet;

use swarm_eval::benchmarks::ceval::extract_answer as ceval_extract;
use swarm_eval::mc::{
    Parser, SINGLE_ANSWER_TEMPLATE_COT, answer_character, extract, extract_with, extract_zh,
    extract_zh_with, format_choices, format_letters, parse_answers, prompt,
};

#[test]
fn english_extraction_matches_evalscope() {
    // (completion, options, multiple answers, EvalScope's extracted prediction)
    let cases: &[(&str, usize, bool, &str)] = &[
        ("Reasoning...\nANSWER: B", 4, false, "B"),
        ("ANSWER: A\nwait, no.\nANSWER: C", 4, false, "A"),
        ("The answer: so ANSWER: C is it", 4, false, ""),
        ("final ANSWER: **B**", 4, false, ""),
        ("answer : d.", 4, false, ""),
        ("Answer: d", 4, false, ""),
        ("ANSWER: B中", 4, false, "B"),
        ("I think it is B, not C", 4, false, "C"),
        ("no capitals here", 4, false, ""),
        ("Probably option E.", 4, false, "E"),
        ("ANSWER: E", 4, false, ""),
        ("ANSWER: A, C", 4, true, "AC"),
        ("ANSWER: A and C", 4, true, "AC"),
        ("ANSWER: AC", 4, true, "AC"),
        ("ANSWER: A C D", 4, true, "ACD"),
        ("ANSWER: A, E", 4, true, ""),
        ("ANSWER: A, C", 4, false, ""),
        ("x\n  ANSWER: B\n", 4, false, "B"),
        ("ANSWER:\nB", 4, false, "B"),
        ("ANSWER: J", 10, false, "J"),
        ("ANSWER: 1", 27, false, "1"),
        ("ANSWER: B and so on, Ü", 4, false, ""),
        ("The correct choice is É", 4, false, "É"),
        ("ſome text\nANſWER: C", 4, false, "C"),
        ("ANSWER:\u{1c}B", 4, false, "B"),
    ];
    for (text, n, multiple, expected) in cases {
        assert_eq!(extract(text, *n, *multiple), *expected, "{text:?}");
    }
}

#[test]
fn chinese_extraction_matches_evalscope() {
    let cases: &[(&str, usize, bool, &str)] = &[
        ("分析……\n答案：C", 4, false, "C"),
        ("答案: B", 4, false, "B"),
        ("答案：A。然后答案：B", 4, false, "A"),
        ("答案：**B**", 4, false, "B"),
        ("答案 ： D", 4, false, "D"),
        ("答案：E", 4, false, ""),
        ("选B吧", 4, false, "B"),
        ("没有字母", 4, false, ""),
        ("答案：A，C", 4, true, "AC"),
        ("答案：AC", 4, true, "AC"),
        ("答案：A,E", 4, true, ""),
        ("答案：a", 4, false, ""),
        ("答案：AB", 4, false, ""),
    ];
    for (text, n, multiple, expected) in cases {
        assert_eq!(extract_zh(text, *n, *multiple), *expected, "{text:?}");
    }
}

#[test]
fn strict_line_match_wins_over_an_earlier_inline_answer() {
    // The inline "ANSWER: A" comes first, but only the last one stands alone on its line.
    let text = "So far ANSWER: A seems right.\nANSWER: C";
    assert_eq!(extract(text, 4, false), "C");
    // Without a line of its own, the first inline answer is taken...
    assert_eq!(extract("ANSWER: A; later ANSWER: C!", 4, false), "A");
    // ...greedily: "A is wrong" is no option, and the later answer is not looked at.
    assert_eq!(extract("ANSWER: A is wrong; ANSWER: C!", 4, false), "");
}

#[test]
fn the_fallback_is_the_last_capital_even_outside_the_options() {
    assert_eq!(extract("I would pick B over A", 4, false), "A");
    assert_eq!(extract("none of them: Z", 4, false), "Z");
    assert_eq!(extract("lower case only", 4, false), "");
    // A capture that is not an option gives nothing; the fallback is not tried.
    assert_eq!(extract("ANSWER: Q", 4, false), "");
}

#[test]
fn multiple_answers_come_back_sorted_and_deduplicated() {
    assert_eq!(
        parse_answers("ANSWER: D, B, B", 4, true),
        BTreeSet::from(["B".to_owned(), "D".to_owned()])
    );
    assert_eq!(extract("ANSWER: C and A", 4, true), "AC");
    assert_eq!(extract("ANSWER: CA", 4, true), "AC");
    // One option outside the range spoils the answer.
    assert_eq!(extract("ANSWER: A, F", 5, true), "");
}

#[test]
fn labels_go_past_z_with_numbers() {
    assert_eq!(answer_character(0), "A");
    assert_eq!(answer_character(25), "Z");
    assert_eq!(answer_character(26), "1");
    assert_eq!(answer_character(30), "5");
    assert_eq!(format_letters(4), "A,B,C,D");
    assert_eq!(
        format_letters(27),
        "A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z,1"
    );
}

#[test]
fn choices_render_one_labelled_line_each() {
    assert_eq!(
        format_choices(&["red", "green", "blue"]),
        "A) red\nB) green\nC) blue"
    );
    let rendered = prompt(SINGLE_ANSWER_TEMPLATE_COT, "Pick {one}?", &["x", "y"]);
    assert_eq!(
        rendered,
        "Answer the following multiple choice question. The last line of your response should be \
         of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of A,B. \
         Think step by step before answering.\n\nPick {one}?\n\nA) x\nB) y"
    );
}

#[test]
fn ceval_takes_the_last_full_width_answer_in_a_to_d() {
    assert_eq!(ceval_extract("答案：A\n再想想\n答案：C"), "C");
    assert_eq!(ceval_extract("答案：C\n答案：E"), "C");
    assert_eq!(ceval_extract("答案: B"), "");
    assert_eq!(ceval_extract("答案：**B**"), "");
    assert_eq!(ceval_extract("答案：答案：D"), "D");
    assert_eq!(ceval_extract(""), "");
}

#[test]
fn head_parser_matches_evalscope_head() {
    // EvalScope HEAD's parse_answers / parse_answers_zh (the compat switch `mc_parser: "head"`).
    let en: &[(&str, usize, bool, &str)] = &[
        ("ANSWER: A\nwait, no.\nANSWER: C", 4, false, "C"),
        ("ANSWER: B, not C", 4, false, "B"),
        ("ANSWER: **B**", 4, false, "B"),
        ("ANSWER: (C)", 4, false, "C"),
        ("ANSWER: [LETTER]\nreasoning...\nANSWER: D", 4, false, "D"),
        ("ANSWER: [LETTER]", 4, false, ""),
        ("I pick Z", 4, false, ""),
        ("I pick B over A", 4, false, "A"),
        ("ANSWER: (A, C)", 4, true, "AC"),
        ("ANSWER: A and C", 4, true, "A"),
        ("ANSWER: AC", 4, false, ""),
        ("answer: b", 4, false, ""),
        ("ANSWER: E", 4, false, ""),
        ("ANSWER: Due to X, B", 4, false, "B"),
    ];
    for (text, n, multiple, expected) in en {
        assert_eq!(
            extract_with(Parser::Head, text, *n, *multiple),
            *expected,
            "{text:?}"
        );
    }
    let zh: &[(&str, usize, bool, &str)] = &[
        ("答案：A。然后答案：B", 4, false, "B"),
        ("答案：**B**", 4, false, "B"),
        ("答案：（C）", 4, false, "C"),
        ("答案：【A，C】", 4, true, "AC"),
        ("答案：E\n选Z", 4, false, ""),
        ("没有", 4, false, ""),
    ];
    for (text, n, multiple, expected) in zh {
        assert_eq!(
            extract_zh_with(Parser::Head, text, *n, *multiple),
            *expected,
            "{text:?}"
        );
    }
    // The default is v1.10.0.
    assert_eq!(
        extract_with(
            Parser::default(),
            "ANSWER: A\nwait, no.\nANSWER: C",
            4,
            false
        ),
        "A"
    );
}
