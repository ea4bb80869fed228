//! Completion filters: EvalScope's `remove_until`, `regex`, `remove_whitespace`, `take_first`,
//! `majority_vote`, applied in the order the dataset arguments list them.

use swarm_eval::DatasetArgs;
use swarm_eval::EvalError;
use swarm_eval::filters::{FilterChain, majority_vote, remove_until, remove_whitespace};

fn chain(json: &str) -> Result<FilterChain, EvalError> {
    let args: DatasetArgs = serde_json::from_str(&format!(r#"{{"filters": {json}}}"#)).unwrap();
    FilterChain::from_args("gsm8k", &args.filters)
}

#[test]
fn remove_until_keeps_what_follows_the_first_delimiter() {
    let text = "<think>maybe ANSWER: A</think>\n\nANSWER: B";
    assert_eq!(remove_until(text, "</think>"), "\n\nANSWER: B");
    assert_eq!(
        remove_until("a</think>b</think>c", "</think>"),
        "b</think>c"
    );
    assert_eq!(
        remove_until("no thinking here", "</think>"),
        "no thinking here"
    );
    assert_eq!(remove_until("ends with</think>", "</think>"), "");
}

#[test]
fn thinking_answers_no_longer_win_after_remove_until() {
    let completion = "<think>\nANSWER: A\n</think>\nANSWER: B";
    let filtered = chain(r#"{"remove_until": "</think>"}"#)
        .unwrap()
        .apply(completion);
    assert_eq!(swarm_eval::mc::extract(&filtered, 4, false), "B");
    // Unfiltered, v1.10.0's first strict match is the one in the thinking.
    assert_eq!(swarm_eval::mc::extract(completion, 4, false), "A");
}

#[test]
fn filters_run_in_the_order_given() {
    let text = "  x</think>  y";
    let until_then_strip =
        chain(r#"{"remove_until": "</think>", "remove_whitespace": null}"#).unwrap();
    assert_eq!(until_then_strip.apply(text), "y");
    let strip_then_until =
        chain(r#"{"remove_whitespace": {}, "remove_until": "</think>"}"#).unwrap();
    assert_eq!(strip_then_until.apply(text), "  y");
    assert_eq!(remove_whitespace("\u{1c}\t x "), "x ");
}

#[test]
fn regex_filter_follows_python_findall() {
    let default = chain(r#"{"regex": null}"#).unwrap();
    assert_eq!(default.apply("so 3 + 4 = 7\n#### 1,234"), "1,234");
    assert_eq!(default.apply("no marker"), "[invalid]");

    let last = chain(r#"{"regex": {"regex_pattern": "(\\d+)", "group_select": -1}}"#).unwrap();
    assert_eq!(last.apply("1 22 333"), "333");
    let first = chain(r#"{"regex": {"regex_pattern": "\\d+"}}"#).unwrap();
    assert_eq!(first.apply("1 22 333"), "1");
    let out_of_range =
        chain(r#"{"regex": {"regex_pattern": "\\d+", "group_select": 5, "fallback": "none"}}"#)
            .unwrap();
    assert_eq!(out_of_range.apply("1 22 333"), "none");
    // Several groups: the first non-empty one of the chosen match.
    let groups = chain(r#"{"regex": {"regex_pattern": "(a)|(b)"}}"#).unwrap();
    assert_eq!(groups.apply("  b a"), "b");
    let padded = chain(r#"{"regex": "answer:(.*)"}"#).unwrap();
    assert_eq!(padded.apply("answer:  42  "), "42");
}

#[test]
fn take_first_and_majority_vote_reduce_repeats() {
    let responses: Vec<String> = ["A", "B", "B", "A", "C"].map(String::from).to_vec();
    assert_eq!(
        chain(r#"{"take_first": null}"#)
            .unwrap()
            .apply_responses(&responses),
        ["A"]
    );
    // A tie goes to the response seen first, as Counter.most_common does.
    assert_eq!(
        chain(r#"{"majority_vote": null}"#)
            .unwrap()
            .apply_responses(&responses),
        ["A"]
    );
    assert_eq!(
        majority_vote(&["x".into(), "y".into(), "y".into()]),
        Some("y".to_owned())
    );
    assert_eq!(majority_vote(&[]), None);
    // Per-response filters map every response.
    let strip = chain(r#"{"remove_until": "|"}"#).unwrap();
    assert_eq!(
        strip.apply_responses(&["a|b".into(), "c".into()]),
        ["b", "c"]
    );
}

#[test]
fn bad_filters_are_errors_naming_the_filter() {
    for (json, needle) in [
        (
            r#"{"strip_everything": null}"#,
            "unknown filter \"strip_everything\"",
        ),
        (r#"{"remove_until": 3}"#, "remove_until"),
        (r#"{"remove_until": ""}"#, "empty delimiter"),
        (
            r#"{"regex": {"regex_pattern": "(unclosed"}}"#,
            "bad pattern",
        ),
        (r#"{"regex": {"group_select": "first"}}"#, "group_select"),
    ] {
        let err = chain(json).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, EvalError::BadArgs { .. }), "{json}");
        assert!(message.starts_with("gsm8k: "), "{message}");
        assert!(message.contains(needle), "{json}: {message}");
    }
    assert!(chain("{}").unwrap().is_empty());
}
