//! EvalScope's length filter, `number`, token counts and the system prompt.

use std::path::PathBuf;

use serde_json::json;
use swarm_common::dataset::{DatasetKind, DatasetSpec, load};
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_common::tokenize::{TokenCounter, load_tokenizer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/datasets")
        .join(name)
}

fn smollm2() -> std::sync::Arc<dyn TokenCounter> {
    load_tokenizer(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokenizers/smollm2-135m"
    ))
    .unwrap()
}

fn openqa(min: usize, max: usize) -> DatasetSpec {
    let mut spec = DatasetSpec::new(DatasetKind::OpenQa, Some(fixture("openqa.jsonl")));
    spec.min_prompt_length = min;
    spec.max_prompt_length = max;
    spec
}

fn texts(prompts: &[Prompt]) -> Vec<String> {
    prompts.iter().map(Prompt::plain_text).collect()
}

// Questions in openqa.jsonl: 29, 53, 40 and 43 characters; 37, 13, 8 and 9 SmolLM2 tokens.

#[test]
fn without_a_tokenizer_bounds_are_inclusive_and_in_characters() {
    let out = load(&openqa(30, 52), None).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "How do vaccines train the immune system?",
            "What is the difference between TCP and UDP?"
        ]
    );
    // both bounds are kept (EvalScope's `min <= len <= max`); the Chinese question is 29
    // characters but 71 bytes: characters are what count
    assert_eq!(load(&openqa(29, 53), None).unwrap().prompts.len(), 4);
    assert_eq!(load(&openqa(30, 53), None).unwrap().prompts.len(), 3);
}

#[test]
fn with_a_tokenizer_bounds_are_in_tokens_and_counts_are_kept() {
    let tok = smollm2();
    assert_eq!(
        load(&openqa(8, 37), Some(tok.as_ref()))
            .unwrap()
            .prompts
            .len(),
        4
    );
    let out = load(&openqa(9, 36), Some(tok.as_ref())).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "Why is the sky blue during the day but red at sunset?",
            "What is the difference between TCP and UDP?"
        ]
    );
    let tokens: Vec<Option<u32>> = out.prompts.iter().map(|p| p.tokens).collect();
    assert_eq!(tokens, [Some(13), Some(9)]);
}

#[test]
fn number_keeps_the_first_prompts_that_pass() {
    let mut spec = openqa(9, 36);
    spec.number = 1;
    let tok = smollm2();
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    assert_eq!(
        texts(&out.prompts),
        ["Why is the sky blue during the day but red at sunset?"]
    );

    let mut spec = openqa(0, 1000);
    spec.number = 10;
    assert_eq!(load(&spec, None).unwrap().prompts.len(), 4);
}

#[test]
fn message_prompts_are_counted_over_their_contents() {
    let tok = smollm2();
    let spec = DatasetSpec::new(DatasetKind::Custom, Some(fixture("custom.jsonl")));
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    // "You are terse.\nName a prime above 100."
    assert_eq!(out.prompts[0].tokens, Some(15));
    assert_eq!(
        out.prompts[1].tokens,
        Some(tok.count("Describe this chart.") as u32)
    );
    assert!(out.prompts.iter().all(|p| p.tokens.is_some()));
}

#[test]
fn a_system_prompt_turns_text_into_a_conversation() {
    let mut spec = openqa(0, 1000);
    spec.system_prompt = Some("Answer in one sentence.".to_string());
    spec.number = 1;
    let tok = smollm2();
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    assert_eq!(
        out.prompts[0],
        Prompt {
            body: PromptBody::Messages {
                messages: vec![
                    json!({"role": "system", "content": "Answer in one sentence."}),
                    json!({"role": "user", "content": "我有一个计算机相关的问题，请用中文回答，什么是 COBOL"}),
                ],
            },
            // The system prompt is not counted.
            tokens: Some(37),
        }
    );
}

#[test]
fn a_system_prompt_leaves_existing_system_messages_and_completion_bodies_alone() {
    let mut spec = DatasetSpec::new(DatasetKind::Custom, Some(fixture("custom.jsonl")));
    spec.system_prompt = Some("Be brief.".to_string());
    let out = load(&spec, None).unwrap();
    let system = json!({"role": "system", "content": "Be brief."});
    let first_messages: Vec<Option<serde_json::Value>> = out
        .prompts
        .iter()
        .map(|p| match &p.body {
            PromptBody::Messages { messages } => messages.first().cloned(),
            PromptBody::Body { body } => body.get("messages").and_then(|m| m.get(0)).cloned(),
            PromptBody::Text { .. } => panic!("text should have become messages"),
            PromptBody::Conversation { .. } => panic!("custom gives no conversation"),
        })
        .collect();
    assert_eq!(
        first_messages,
        [
            Some(json!({"role": "system", "content": "You are terse."})),
            Some(system.clone()),
            Some(system.clone()),
            Some(system.clone()),
            Some(system),
            None,
        ]
    );
    let PromptBody::Body { body } = &out.prompts[5].body else {
        panic!()
    };
    assert_eq!(
        serde_json::Value::Object(body.clone()),
        json!({"prompt": "def fib(n):", "max_tokens": 64})
    );
}

#[test]
fn loading_stops_at_number_so_later_bad_lines_are_not_read() {
    // Line 2 of openqa_bad.jsonl is bad; with number = 1 it is never reached.
    let mut spec = DatasetSpec::new(DatasetKind::OpenQa, Some(fixture("openqa_bad.jsonl")));
    spec.number = 1;
    let out = load(&spec, None).unwrap();
    assert_eq!(texts(&out.prompts), ["What does a load balancer do?"]);
    spec.number = 2;
    assert!(load(&spec, None).is_err());
}
