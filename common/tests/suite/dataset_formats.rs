//! Each file format turns into the prompts its records hold.

use std::path::PathBuf;

use serde_json::json;
use swarm_common::dataset::{DatasetKind, DatasetSpec, load};
use swarm_common::prompt::{Prompt, PromptBody};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/datasets")
        .join(name)
}

fn spec(kind: DatasetKind, file: &str) -> DatasetSpec {
    DatasetSpec::new(kind, Some(fixture(file)))
}

fn texts(prompts: &[Prompt]) -> Vec<String> {
    prompts
        .iter()
        .map(|p| match &p.body {
            PromptBody::Text { text } => text.clone(),
            other => panic!("expected text, got {other:?}"),
        })
        .collect()
}

#[test]
fn openqa_reads_trimmed_questions_and_ignores_blank_lines() {
    let out = load(&spec(DatasetKind::OpenQa, "openqa.jsonl"), None).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "我有一个计算机相关的问题，请用中文回答，什么是 COBOL",
            "Why is the sky blue during the day but red at sunset?",
            "How do vaccines train the immune system?",
            "What is the difference between TCP and UDP?",
        ]
    );
    assert!(out.skipped.is_empty());
    assert!(out.prompts.iter().all(|p| p.tokens.is_none()));
}

#[test]
fn longalpaca_reads_instructions_from_a_json_list() {
    let out = load(&spec(DatasetKind::LongAlpaca, "longalpaca.json"), None).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "Below is a paper. Summarize its main contribution in two sentences.\n\nAbstract: We present a method for extending the context window of large language models.",
            "Read the following story and answer: who found the key?",
            "List three uses of shifted sparse attention.",
        ]
    );
}

#[test]
fn line_by_line_keeps_non_blank_lines_trimmed() {
    let out = load(&spec(DatasetKind::LineByLine, "lines.txt"), None).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "What is the capital of France?",
            "Explain recursion to a five-year-old.",
            "Write a haiku about load testing.",
        ]
    );
}

#[test]
fn sharegpt_takes_the_first_human_turn() {
    let mut s = spec(DatasetKind::ShareGpt, "sharegpt_small.json");
    s.on_bad_line = swarm_common::dataset::BadLinePolicy::Skip;
    let out = load(&s, None).unwrap();
    assert_eq!(
        texts(&out.prompts),
        [
            "How do I reverse a linked list in Rust?",
            "Translate 'good morning' into Japanese.",
            "Give me a regex for ISO dates.",
        ]
    );
    assert_eq!(out.skipped.len(), 1);
    assert_eq!(
        out.skipped[0].to_string(),
        format!(
            "{}:1: field `[2].conversations`: no turn from `human`",
            fixture("sharegpt_small.json").display()
        )
    );
}

#[test]
fn custom_follows_the_documented_rule() {
    let out = load(&spec(DatasetKind::Custom, "custom.jsonl"), None).unwrap();
    let bodies: Vec<PromptBody> = out.prompts.into_iter().map(|p| p.body).collect();
    let expected = [
        PromptBody::Messages {
            messages: vec![
                json!({"role": "system", "content": "You are terse."}),
                json!({"role": "user", "content": "Name a prime above 100."}),
            ],
        },
        PromptBody::Messages {
            messages: vec![json!({"role": "user", "content": [{"type": "text", "text": "Describe this chart."}]})],
        },
        PromptBody::Text { text: "Once upon a time".to_string() },
        PromptBody::Body {
            body: json!({"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.2})
                .as_object()
                .unwrap()
                .clone(),
        },
        PromptBody::Body {
            body: json!({"messages": [{"role": "user", "content": "Count to five."}], "max_tokens": 16, "model": "smollm2"})
                .as_object()
                .unwrap()
                .clone(),
        },
        PromptBody::Body { body: json!({"prompt": "def fib(n):", "max_tokens": 64}).as_object().unwrap().clone() },
    ];
    assert_eq!(bodies, expected);
}

#[test]
fn kinds_parse_from_their_evalscope_names() {
    for (name, kind) in [
        ("openqa", DatasetKind::OpenQa),
        ("longalpaca", DatasetKind::LongAlpaca),
        ("line_by_line", DatasetKind::LineByLine),
        ("sharegpt", DatasetKind::ShareGpt),
        ("share_gpt", DatasetKind::ShareGpt),
        ("custom", DatasetKind::Custom),
        ("random", DatasetKind::Random),
        ("random_embedding", DatasetKind::RandomEmbedding),
        ("random_embedding_batch", DatasetKind::RandomEmbeddingBatch),
        ("embedding", DatasetKind::Embedding),
        ("embed", DatasetKind::Embedding),
        ("embedding_batch", DatasetKind::EmbeddingBatch),
        ("random_rerank", DatasetKind::RandomRerank),
        ("rerank", DatasetKind::Rerank),
        ("speed_benchmark", DatasetKind::SpeedBenchmark),
        ("speed_benchmark_long", DatasetKind::SpeedBenchmarkLong),
        ("random_multi_turn", DatasetKind::RandomMultiTurn),
        ("share_gpt_en_multi_turn", DatasetKind::ShareGptEnMultiTurn),
        ("share_gpt_zh_multi_turn", DatasetKind::ShareGptZhMultiTurn),
        ("custom_multi_turn", DatasetKind::CustomMultiTurn),
    ] {
        assert_eq!(name.parse::<DatasetKind>().unwrap(), kind);
        let from_yaml: DatasetKind = serde_norway::from_str(name).unwrap();
        assert_eq!(from_yaml, kind);
    }
    assert_eq!(DatasetKind::ShareGpt.to_string(), "sharegpt");
    let err = "open_qa".parse::<DatasetKind>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown dataset `open_qa`, expected one of: openqa, longalpaca, line_by_line, sharegpt, custom, random, random_embedding, random_embedding_batch, embedding, embedding_batch, random_rerank, rerank, speed_benchmark, speed_benchmark_long, random_multi_turn, share_gpt_en_multi_turn, share_gpt_zh_multi_turn, custom_multi_turn"
    );
}

#[test]
fn a_spec_reads_from_yaml_with_evalscope_defaults() {
    let spec: DatasetSpec =
        serde_norway::from_str("kind: openqa\npath: data/open_qa.jsonl\n").unwrap();
    assert_eq!(
        spec,
        DatasetSpec::new(DatasetKind::OpenQa, Some("data/open_qa.jsonl".into()))
    );
    assert_eq!(spec.max_prompt_length, 131_072);
    assert_eq!(spec.seed, 42);
    let err =
        serde_norway::from_str::<DatasetSpec>("kind: openqa\nmax_prompt_len: 5\n").unwrap_err();
    assert!(err.to_string().contains("max_prompt_len"), "{err}");
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_tolerated() {
    let bytes = b"\xef\xbb\xbf{\"question\": \"first\"}\r\n{\"question\": \"second\"}\r\n";
    let spec = DatasetSpec::new(DatasetKind::OpenQa, None);
    let out = swarm_common::dataset::load_bytes(&spec, "bom.jsonl".as_ref(), bytes, None).unwrap();
    assert_eq!(texts(&out.prompts), ["first", "second"]);
    let list = b"\xef\xbb\xbf[{\"instruction\": \"only\"}]\r\n";
    let spec = DatasetSpec::new(DatasetKind::LongAlpaca, None);
    let out = swarm_common::dataset::load_bytes(&spec, "bom.json".as_ref(), list, None).unwrap();
    assert_eq!(texts(&out.prompts), ["only"]);
}
