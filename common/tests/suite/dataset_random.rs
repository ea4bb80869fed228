//! The `random` dataset: exact token lengths, a shared prefix, determinism.

use std::sync::Arc;

use swarm_common::dataset::{DatasetError, DatasetKind, DatasetSpec, LoadedDataset, load};
use swarm_common::prompt::PromptBody;
use swarm_common::tokenize::{TokenCounter, load_tokenizer};

fn smollm2() -> Arc<dyn TokenCounter> {
    load_tokenizer(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokenizers/smollm2-135m"
    ))
    .unwrap()
}

fn random(number: usize, min: usize, max: usize, prefix: usize, seed: u64) -> DatasetSpec {
    let mut spec = DatasetSpec::new(DatasetKind::Random, None);
    spec.number = number;
    spec.min_prompt_length = min;
    spec.max_prompt_length = max;
    spec.prefix_length = prefix;
    spec.seed = seed;
    spec
}

fn text(body: &PromptBody) -> &str {
    match body {
        PromptBody::Text { text } => text,
        other => panic!("expected text, got {other:?}"),
    }
}

/// Every prompt re-encodes to exactly its `tokens`, within `[lo, hi]`; returns the lengths.
fn assert_exact(out: &LoadedDataset, tok: &dyn TokenCounter, lo: usize, hi: usize) -> Vec<usize> {
    out.prompts
        .iter()
        .map(|p| {
            let want = p.tokens.expect("random prompts carry their length") as usize;
            assert_eq!(
                tok.count(text(&p.body)),
                want,
                "{}: {:?}",
                tok.name(),
                p.body
            );
            assert!((lo..=hi).contains(&want), "{want} outside [{lo}, {hi}]");
            want
        })
        .collect()
}

#[test]
fn smollm2_prompts_have_exact_lengths() {
    let tok = smollm2();
    let out = load(&random(50, 1, 300, 0, 7), Some(tok.as_ref())).unwrap();
    assert_eq!(out.prompts.len(), 50);
    let lengths = assert_exact(&out, tok.as_ref(), 1, 300);
    assert!(
        lengths.iter().min() < Some(&60) && lengths.iter().max() > Some(&240),
        "{lengths:?}"
    );
}

#[test]
fn cl100k_prompts_have_exact_lengths() {
    let tok = load_tokenizer("cl100k_base").unwrap();
    let out = load(&random(50, 1, 300, 0, 7), Some(tok.as_ref())).unwrap();
    assert_eq!(out.prompts.len(), 50);
    let lengths = assert_exact(&out, tok.as_ref(), 1, 300);
    let distinct: std::collections::BTreeSet<_> = lengths.iter().collect();
    assert!(distinct.len() > 30, "{lengths:?}");
}

#[test]
fn o200k_prompts_have_exact_lengths() {
    let tok = load_tokenizer("o200k_base").unwrap();
    let out = load(&random(20, 1, 100, 0, 3), Some(tok.as_ref())).unwrap();
    assert_exact(&out, tok.as_ref(), 1, 100);
}

#[test]
fn the_prefix_is_the_same_tokens_in_every_prompt() {
    for tok in [smollm2(), load_tokenizer("cl100k_base").unwrap()] {
        let out = load(&random(20, 1, 64, 32, 11), Some(tok.as_ref())).unwrap();
        // As in EvalScope, the drawn length comes on top of the prefix.
        assert_exact(&out, tok.as_ref(), 33, 96);
        let encoded: Vec<Vec<u32>> = out
            .prompts
            .iter()
            .map(|p| tok.encode(text(&p.body)))
            .collect();
        let prefix = &encoded[0][..32];
        assert!(
            encoded.iter().all(|ids| &ids[..32] == prefix),
            "{}",
            tok.name()
        );
        let texts: Vec<&str> = out.prompts.iter().map(|p| text(&p.body)).collect();
        let shared = tok.decode(prefix);
        assert!(
            texts.iter().all(|t| t.starts_with(&shared)),
            "{}",
            tok.name()
        );
        assert!(texts.windows(2).any(|w| w[0] != w[1]));
    }
}

#[test]
fn the_same_seed_gives_the_same_prompts_and_another_seed_does_not() {
    let tok = smollm2();
    let a = load(&random(10, 5, 50, 4, 42), Some(tok.as_ref())).unwrap();
    let b = load(&random(10, 5, 50, 4, 42), Some(tok.as_ref())).unwrap();
    let c = load(&random(10, 5, 50, 4, 43), Some(tok.as_ref())).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.prompts, c.prompts);
}

#[test]
fn equal_bounds_give_one_length_and_zero_gives_empty_text() {
    let tok = load_tokenizer("cl100k_base").unwrap();
    let out = load(&random(5, 128, 128, 0, 1), Some(tok.as_ref())).unwrap();
    assert_eq!(assert_exact(&out, tok.as_ref(), 128, 128), [128; 5]);
    let out = load(&random(2, 0, 0, 0, 1), Some(tok.as_ref())).unwrap();
    assert!(
        out.prompts
            .iter()
            .all(|p| text(&p.body).is_empty() && p.tokens == Some(0))
    );
}

#[test]
fn a_system_prompt_wraps_random_prompts() {
    let tok = smollm2();
    let mut spec = random(3, 10, 20, 0, 5);
    spec.system_prompt = Some("You are a benchmark target.".to_string());
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    for p in &out.prompts {
        let PromptBody::Messages { messages } = &p.body else {
            panic!("{:?}", p.body)
        };
        assert_eq!(messages[0]["role"], "system");
        let user = messages[1]["content"].as_str().unwrap();
        assert_eq!(Some(tok.count(user) as u32), p.tokens);
    }
}

#[test]
fn random_needs_a_tokenizer_and_a_number() {
    let err = load(&random(10, 1, 10, 0, 1), None).unwrap_err();
    assert!(
        matches!(err, DatasetError::TokenizerRequired { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "dataset `random` needs a tokenizer to make prompts of exact token lengths"
    );
    let tok = smollm2();
    let err = load(&random(0, 1, 10, 0, 1), Some(tok.as_ref())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset `random` needs `number` above 0, got 0"
    );
}

/// A tokenizer whose only token does not survive decoding.
#[derive(Debug)]
struct Broken;

impl TokenCounter for Broken {
    fn count(&self, text: &str) -> usize {
        text.len()
    }
    fn encode(&self, text: &str) -> Vec<u32> {
        text.bytes().map(u32::from).collect()
    }
    fn decode(&self, ids: &[u32]) -> String {
        "\u{FFFD}".repeat(ids.len())
    }
    fn vocab_size(&self) -> usize {
        1
    }
    fn name(&self) -> &str {
        "broken"
    }
}

#[test]
fn a_tokenizer_without_usable_tokens_is_an_error_not_a_hang() {
    let err = load(&random(1, 5, 5, 0, 1), Some(&Broken)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tokenizer `broken` has no token whose text encodes back to it"
    );
}

#[test]
fn retrieval_kinds_make_batches_and_rerank_pairs_of_exact_lengths() {
    let tok = smollm2();
    let mut spec = random(3, 5, 5, 0, 7);
    spec.kind = DatasetKind::RandomEmbeddingBatch;
    spec.batch_size = 4;
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    assert_eq!(out.prompts.len(), 3);
    for p in &out.prompts {
        let PromptBody::Body { body } = &p.body else {
            panic!("batch body")
        };
        let input = body["input"].as_array().unwrap();
        assert_eq!(input.len(), 4);
        for t in input {
            assert_eq!(tok.count(t.as_str().unwrap()), 5);
        }
        assert_eq!(p.tokens, Some(20));
    }

    let mut spec = random(2, 3, 3, 0, 7);
    spec.kind = DatasetKind::RandomRerank;
    spec.num_documents = 3;
    spec.document_length_ratio = 2.0;
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    assert_eq!(out.prompts.len(), 2);
    for p in &out.prompts {
        let PromptBody::Body { body } = &p.body else {
            panic!("rerank body")
        };
        assert_eq!(tok.count(body["query"].as_str().unwrap()), 3);
        let docs = body["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 3);
        for d in docs {
            assert_eq!(tok.count(d.as_str().unwrap()), 6);
        }
        assert_eq!(p.tokens, Some(3 + 3 * 6));
    }

    let mut spec = random(2, 4, 4, 0, 7);
    spec.kind = DatasetKind::RandomEmbedding;
    let out = load(&spec, Some(tok.as_ref())).unwrap();
    assert_eq!(out.prompts[1].tokens, Some(4));
    assert!(matches!(
        load(&spec, None),
        Err(DatasetError::TokenizerRequired {
            kind: DatasetKind::RandomEmbedding
        })
    ));
}
