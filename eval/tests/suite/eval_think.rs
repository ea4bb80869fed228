//! Think-eval pieces: the reasoning part, thought counts, step splitting, locating the first
//! correct step judge-free and through the judge's answer, and the metrics per level.

use swarm_eval::think::locate::{candidates, judge_prompt, parse_judge_index};
use swarm_eval::think::{
    FirstCorrectMode, SampleMetrics, SplitStrategy, by_level, first_correct_step,
    first_correct_text, split_steps, think_part, thought_num,
};

#[test]
fn the_think_part_prefers_reasoning_then_the_last_think_end() {
    assert_eq!(think_part("<think>a</think>b", "sep"), "sep");
    assert_eq!(
        think_part("<think>a</think>b</think>c", ""),
        "<think>a</think>b"
    );
    assert_eq!(think_part("no tags at all", ""), "no tags at all");
}

#[test]
fn thoughts_count_every_switch_phrase_case_insensitively() {
    let t = "Start. Alternatively, x. BUT WAIT y. but wait z. Let me reconsider. another angle; Another Approach";
    assert_eq!(thought_num(t), 6);
    assert_eq!(thought_num("nothing here"), 0);
}

#[test]
fn steps_split_at_blank_lines_or_before_lowercase_keywords() {
    let t = "one\n\ntwo\n\n\nthree";
    assert_eq!(
        split_steps(t, SplitStrategy::Separator),
        ["one", "two", "\nthree"]
    );
    let t = "first try. alternatively we could. But wait, no. but wait again. butwait not a word";
    assert_eq!(
        split_steps(t, SplitStrategy::Keywords),
        [
            "first try.",
            "alternatively we could. But wait, no.",
            "but wait again. butwait not a word"
        ]
    );
    assert_eq!(split_steps("  ", SplitStrategy::Keywords), ["  "]);
    assert_eq!(
        "keywords".parse::<SplitStrategy>(),
        Ok(SplitStrategy::Keywords)
    );
    assert!("separators".parse::<SplitStrategy>().is_err());
}

#[test]
fn judge_free_finds_the_first_step_whose_candidate_is_correct() {
    let steps: Vec<String> = [
        "Let me think about it.",
        "Perhaps the result is \\boxed{43}.",
        "Alternatively, it is \\boxed{\\frac{84}{2}} and also \\boxed{7}.",
        "So \\boxed{42}.",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    assert_eq!(candidates(&steps[2]), ["\\frac{84}{2}", "7"]);
    assert_eq!(candidates("we get 1,234 then 17"), ["17"]);
    assert!(candidates(&steps[0]).is_empty());
    assert_eq!(first_correct_step(&steps, "42"), 2);
    assert_eq!(first_correct_step(&steps, "43"), 1);
    assert_eq!(first_correct_step(&steps, "99"), -1);
    // EvalScope joins the steps before the index; inclusive counts the step itself
    assert_eq!(
        first_correct_text(&steps, 2, false),
        "Let me think about it.\n\nPerhaps the result is \\boxed{43}."
    );
    assert_eq!(first_correct_text(&steps, 0, false), "");
    assert_eq!(
        first_correct_text(&steps, 0, true),
        "Let me think about it."
    );
    assert_eq!(first_correct_text(&steps, -1, true), "");
    assert_eq!(first_correct_text(&steps, 99, false), steps.join("\n\n"));
}

#[test]
fn the_judge_prompt_tags_paragraphs_and_its_answer_is_parsed() {
    let steps = vec!["a".to_owned(), "b".to_owned()];
    let p = judge_prompt("What is 6*7?", "42", &steps);
    assert!(p.starts_with("Below are a math problem, its correct answer and a solution"));
    assert!(p.contains("[Math Problem]\n\nWhat is 6*7?\n\n[Correct Answer]\n\n42\n\n[Solution]\n\n<paragraph_0>\na\n</paragraph_0>\n\n<paragraph_1>\nb\n</paragraph_1>\n\nRead the solution"));
    assert!(p.ends_with("Write the number you give in \\boxed{}.\n"));
    assert_eq!(parse_judge_index("It is \\boxed{3}."), 3);
    assert_eq!(parse_judge_index("\\boxed{1} no wait \\boxed{-1}"), -1);
    assert_eq!(parse_judge_index("paragraph \\boxed{index 2 or 5}"), 5);
    assert_eq!(parse_judge_index("no box, 4"), -1);
    assert_eq!(FirstCorrectMode::JudgeFree.label(), "judge_free");
    assert_eq!(
        FirstCorrectMode::Judge { model: "j".into() }.label(),
        "judge:j"
    );
}

#[test]
fn metrics_per_sample_and_per_level() {
    let m = SampleMetrics::new(100, 25, 3);
    assert_eq!(
        (m.reflection_tokens, m.token_efficiency, m.accuracy),
        (75, 0.25, 1.0)
    );
    let none = SampleMetrics::new(0, 0, 0);
    assert_eq!((none.token_efficiency, none.accuracy), (0.0, 0.0));
    let r = by_level(&[
        (
            "Level 1".into(),
            vec![m.clone(), SampleMetrics::new(50, 0, 1)],
        ),
        ("Level 2".into(), vec![]),
        ("Level 3".into(), vec![SampleMetrics::new(10, 10, 0)]),
    ]);
    assert_eq!(r.levels(), ["Level 1", "Level 3"]);
    assert_eq!(r.get("reasoning_tokens", "Level 1"), Some(75.0));
    assert_eq!(r.get("first_correct_tokens", "Level 1"), Some(12.5));
    assert_eq!(r.get("reflection_tokens", "Level 1"), Some(62.5));
    assert_eq!(r.get("token_efficiency", "Level 1"), Some(0.125));
    assert_eq!(r.get("thought_num", "Level 1"), Some(2.0));
    assert_eq!(r.get("accuracy", "Level 1"), Some(0.5));
    assert_eq!(r.get("token_efficiency", "Level 3"), Some(1.0));
    let keys: Vec<&String> = r.0.keys().collect();
    assert_eq!(
        keys,
        [
            "reasoning_tokens",
            "first_correct_tokens",
            "reflection_tokens",
            "token_efficiency",
            "thought_num",
            "accuracy"
        ]
    );
}

#[test]
fn the_llm_split_cuts_the_judges_reformatting_at_blank_lines() {
    use swarm_eval::think::reformat::{flatten_lines, reformat_prompt};
    let s: SplitStrategy = "llm".parse().unwrap();
    assert_eq!(s, SplitStrategy::Llm);
    assert_eq!(s.name(), "llm");
    assert_eq!(
        "tree".parse::<SplitStrategy>().unwrap_err(),
        "unknown split strategy \"tree\"; expected separator, keywords or llm"
    );
    let think = "First, 6*7.\nIt is 42.\n\nBut wait, check: 42.";
    assert_eq!(
        flatten_lines(think),
        "First, 6*7. It is 42.  But wait, check: 42."
    );
    let prompt = reformat_prompt("What is 6*7?", think);
    assert!(prompt.ends_with("[Solution]\n\nFirst, 6*7. It is 42.  But wait, check: 42.\n"));
    let reply = "First, 6*7.\n\nIt is 42.\n\nBut wait, check: 42.";
    assert_eq!(
        split_steps(reply, SplitStrategy::Llm),
        ["First, 6*7.", "It is 42.", "But wait, check: 42."]
    );
}
