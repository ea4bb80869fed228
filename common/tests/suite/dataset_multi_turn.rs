//! The multi-turn datasets: `random_multi_turn`, `share_gpt_en_multi_turn`,
//! `share_gpt_zh_multi_turn`, `custom_multi_turn` (each record one conversation).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};
use swarm_common::dataset::{DatasetError, DatasetKind, DatasetSpec, load};
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_common::tokenize::{TokenCounter, load_tokenizer};

fn smollm2() -> Arc<dyn TokenCounter> {
    load_tokenizer(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokenizers/smollm2-135m"
    ))
    .expect("tokenizer")
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/multi_turn")
        .join(name)
}

fn turns(p: &Prompt) -> &Vec<Vec<Value>> {
    match &p.body {
        PromptBody::Conversation { turns } => turns,
        other => panic!("expected a conversation, got {other:?}"),
    }
}

fn user_texts(p: &Prompt) -> Vec<String> {
    turns(p)
        .iter()
        .map(|t| {
            t.iter()
                .filter(|m| m["role"] == "user")
                .map(|m| m["content"].as_str().expect("text").to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

fn random(number: usize, min_turns: usize, max_turns: Option<usize>) -> DatasetSpec {
    let mut spec = DatasetSpec::new(DatasetKind::RandomMultiTurn, None);
    spec.number = number;
    spec.min_prompt_length = 8;
    spec.max_prompt_length = 16;
    spec.min_turns = min_turns;
    spec.max_turns = max_turns;
    spec
}

#[test]
fn random_conversations_have_turn_counts_and_token_lengths_in_bounds() {
    let tok = smollm2();
    let out = load(&random(40, 2, Some(4)), Some(tok.as_ref())).expect("loads");
    assert_eq!(out.prompts.len(), 40, "number counts conversations");
    let mut counts = std::collections::BTreeSet::new();
    for p in &out.prompts {
        let t = turns(p);
        counts.insert(t.len());
        for turn in t {
            assert_eq!(turn.len(), 1, "one user message a turn");
            assert_eq!(turn[0]["role"], "user");
            let n = tok.count(turn[0]["content"].as_str().expect("text"));
            assert!((8..=16).contains(&n), "turn of {n} tokens");
        }
    }
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        vec![2, 3, 4],
        "every count in [2, 4] drawn"
    );
    let again = load(&random(40, 2, Some(4)), Some(tok.as_ref())).expect("loads");
    assert_eq!(again.prompts, out.prompts, "same seed, same conversations");
}

#[test]
fn random_multi_turn_needs_max_turns_a_tokenizer_and_ordered_bounds() {
    let tok = smollm2();
    let e = load(&random(4, 1, None), Some(tok.as_ref())).expect_err("no max_turns");
    assert!(e.to_string().contains("--max-turns"), "{e}");
    let e = load(&random(4, 3, Some(2)), Some(tok.as_ref())).expect_err("min above max");
    assert_eq!(e.to_string(), "--max-turns (2) must be >= --min-turns (3)");
    let e = load(&random(4, 1, Some(2)), None).expect_err("no tokenizer");
    assert!(matches!(e, DatasetError::TokenizerRequired { .. }), "{e}");
    // min 0 counts as 1 (EvalScope's max(1, min_turns))
    let out = load(&random(20, 0, Some(1)), Some(tok.as_ref())).expect("loads");
    assert!(out.prompts.iter().all(|p| turns(p).len() == 1));
}

#[test]
fn share_gpt_en_multi_turn_reads_swift_lines_turn_by_turn() {
    let spec = DatasetSpec::new(
        DatasetKind::ShareGptEnMultiTurn,
        Some(fixture("sharegpt_en.jsonl")),
    );
    let out = load(&spec, None).expect("loads");
    assert_eq!(out.prompts.len(), 3);
    assert_eq!(
        user_texts(&out.prompts[0]),
        [
            "What is a prefix cache?",
            "Why does it lower TTFT?",
            "And for long chats?"
        ]
    );
    assert_eq!(
        user_texts(&out.prompts[1]),
        ["Name three rivers."],
        "blank turns dropped"
    );
    let mut cut = spec.clone();
    cut.max_turns = Some(2);
    let out = load(&cut, None).expect("loads");
    assert_eq!(
        turns(&out.prompts[0]).len(),
        2,
        "--max-turns cuts conversations"
    );
    // EvalScope's length filter looks at the first user turn only
    let mut long = spec;
    long.min_prompt_length = 20;
    let out = load(&long, None).expect("loads");
    // `Name three rivers.` (18 characters) and `One question only` (17) go; the later, longer
    // turns of the first do not count
    assert_eq!(out.prompts.len(), 1);
    assert_eq!(turns(&out.prompts[0]).len(), 3);
}

#[test]
fn share_gpt_zh_multi_turn_reads_chinese_conversations() {
    let spec = DatasetSpec::new(
        DatasetKind::ShareGptZhMultiTurn,
        Some(fixture("sharegpt_zh.jsonl")),
    );
    let out = load(&spec, None).expect("loads");
    assert_eq!(out.prompts.len(), 2);
    assert_eq!(
        user_texts(&out.prompts[0]),
        ["你好，请介绍一下你自己。", "你能做什么？"]
    );
}

#[test]
fn the_shared_sharegpt_subset_loads_as_conversations() {
    let path = super::shared::shared_data()
        .join("sharegpt")
        .join("ShareGPT_V3_filtered_500.json");
    if !path.is_file() {
        super::shared::skipped(
            "common::dataset_multi_turn",
            &format!("{} is absent", path.display()),
        );
        return;
    }
    let spec = DatasetSpec::new(DatasetKind::ShareGptEnMultiTurn, Some(path));
    let out = load(&spec, None).expect("loads");
    // the published subset keeps each conversation's first human turn only
    assert_eq!(out.prompts.len(), 500);
    assert!(out.prompts.iter().all(|p| turns(p).len() == 1));
    assert_eq!(
        user_texts(&out.prompts[0]),
        ["How to stop automatic updates from the WSUS Server to a target machine"]
    );
}

#[test]
fn custom_multi_turn_splits_at_assistant_messages() {
    let spec = DatasetSpec::new(DatasetKind::CustomMultiTurn, Some(fixture("custom.jsonl")));
    let out = load(&spec, None).expect("loads");
    assert_eq!(out.prompts.len(), 3, "the blank line is no record");
    let first = turns(&out.prompts[0]);
    assert_eq!(
        first[0],
        vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": "first question"})
        ]
    );
    assert_eq!(user_texts(&out.prompts[2]), ["a", "c", "e"]);
    let mut cut = spec;
    cut.max_turns = Some(1);
    assert!(
        load(&cut, None)
            .expect("loads")
            .prompts
            .iter()
            .all(|p| turns(p).len() == 1)
    );
}

#[test]
fn a_bad_custom_multi_turn_line_names_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "[{\"role\": \"user\", \"content\": \"ok\"}]\n[{\"role\": \"user\"}]\n",
    )
    .expect("write");
    let mut spec = DatasetSpec::new(DatasetKind::CustomMultiTurn, Some(path));
    spec.on_bad_line = swarm_common::dataset::BadLinePolicy::Fail;
    let e = load(&spec, None).expect_err("bad line");
    let text = e.to_string();
    assert!(text.contains("bad.jsonl:2"), "{text}");
    assert!(text.contains("[0].content"), "{text}");
}

#[test]
fn a_system_prompt_opens_the_first_turn() {
    let mut spec = DatasetSpec::new(DatasetKind::CustomMultiTurn, Some(fixture("custom.jsonl")));
    spec.system_prompt = Some("sys".into());
    let out = load(&spec, None).expect("loads");
    let second = turns(&out.prompts[1]);
    assert_eq!(second[0][0], json!({"role": "system", "content": "sys"}));
    let first = turns(&out.prompts[0]);
    assert_eq!(
        first[0][0]["content"], "Be brief.",
        "a conversation's own system message stays"
    );
}
