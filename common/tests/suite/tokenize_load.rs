//! Loading tokenizers from every kind of spec, and their counts on known strings.

use std::path::Path;

use swarm_common::tokenize::{TokenizerError, load_tokenizer};

const SMOLLM2_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/tokenizers/smollm2-135m"
);

fn smollm2_file() -> String {
    format!("{SMOLLM2_DIR}/tokenizer.json")
}

#[test]
fn smollm2_counts_known_strings() {
    let tok = load_tokenizer(&smollm2_file()).unwrap();
    assert_eq!(tok.encode("Hello, world!"), vec![19556, 28, 905, 17]);
    assert_eq!(
        tok.count("The quick brown fox jumps over the lazy dog."),
        10
    );
    assert_eq!(tok.count("def add(a, b):\n    return a + b\n"), 13);
    assert_eq!(tok.count("你好，世界"), 10);
    assert_eq!(tok.count(""), 0);
    assert_eq!(tok.vocab_size(), 49152);
}

#[test]
fn cl100k_counts_known_strings() {
    let tok = load_tokenizer("cl100k_base").unwrap();
    // Values published with OpenAI's tiktoken.
    assert_eq!(tok.encode("Hello, world!"), vec![9906, 11, 1917, 0]);
    assert_eq!(tok.encode("hello"), vec![15339]);
    assert_eq!(
        tok.count("The quick brown fox jumps over the lazy dog."),
        10
    );
    assert_eq!(tok.count("你好，世界"), 6);
    assert_eq!(tok.name(), "cl100k_base");
    assert_eq!(tok.vocab_size(), 100_277);
}

#[test]
fn other_tiktoken_encodings_load_with_their_vocab_sizes() {
    for (spec, vocab) in [
        ("o200k_base", 200_019),
        ("p50k_base", 50_281),
        ("r50k_base", 50_257),
    ] {
        let tok = load_tokenizer(spec).unwrap();
        assert_eq!(tok.vocab_size(), vocab, "{spec}");
        assert_eq!(tok.name(), spec);
    }
    assert_eq!(load_tokenizer("o200k_base").unwrap().count("你好，世界"), 3);
}

#[test]
fn tiktoken_model_names_pick_the_model_encoding() {
    let gpt4o = load_tokenizer("tiktoken:gpt-4o").unwrap();
    assert_eq!(gpt4o.vocab_size(), 200_019);
    assert_eq!(gpt4o.name(), "gpt-4o");
    let gpt4 = load_tokenizer("tiktoken:gpt-4").unwrap();
    assert_eq!(gpt4.encode("Hello, world!"), vec![9906, 11, 1917, 0]);
    assert_eq!(
        load_tokenizer("tiktoken:cl100k_base").unwrap().vocab_size(),
        100_277
    );
}

#[test]
fn a_model_directory_loads_its_tokenizer_json() {
    let from_dir = load_tokenizer(SMOLLM2_DIR).unwrap();
    let from_file = load_tokenizer(&smollm2_file()).unwrap();
    let text = "Load testing measures latency under concurrency.";
    assert_eq!(from_dir.encode(text), from_file.encode(text));
    assert_eq!(from_dir.name(), SMOLLM2_DIR);
}

#[test]
fn encode_then_decode_gives_the_text_back() {
    let texts = [
        "Hello, world!",
        "  leading spaces, tabs\tand\nnewlines\n",
        "Ünïcödé, emoji 🚀 and 中文",
        "fn main() { println!(\"{}\", 1 + 1); }",
    ];
    for spec in [smollm2_file().as_str(), "cl100k_base", "o200k_base"] {
        let tok = load_tokenizer(spec).unwrap();
        for text in texts {
            assert_eq!(tok.decode(&tok.encode(text)), text, "{spec}");
            assert_eq!(tok.count(text), tok.encode(text).len(), "{spec}");
        }
    }
}

#[test]
fn special_tokens_are_not_added_and_decode_to_nothing() {
    let hf = load_tokenizer(&smollm2_file()).unwrap();
    // `<|im_start|>` is id 1 in SmolLM2; counting plain text adds no BOS/EOS.
    assert_eq!(hf.encode("Hi"), vec![26843]);
    assert_eq!(hf.decode(&[1, 26843, 2]), "Hi");
    let cl = load_tokenizer("cl100k_base").unwrap();
    // 100257 is `<|endoftext|>`; text that spells it is ordinary text.
    assert_eq!(cl.decode(&[15339, 100_257]), "hello");
    assert_eq!(cl.count("<|endoftext|>"), 7);
    // Ids past the vocabulary decode to nothing rather than failing.
    assert_eq!(cl.decode(&[15339, 4_000_000]), "hello");
}

#[test]
fn a_missing_path_is_named_in_the_error() {
    let err = load_tokenizer("/no/such/dir/tokenizer.json").unwrap_err();
    assert!(matches!(err, TokenizerError::NotFound { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("/no/such/dir/tokenizer.json"), "{msg}");
    assert!(msg.contains("cl100k_base"), "{msg}");
}

#[test]
fn a_directory_without_tokenizer_json_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = load_tokenizer(dir.path().to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, TokenizerError::NoTokenizerJson { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_tokenizer_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokenizer.json");
    std::fs::write(&file, "{\"not\": \"a tokenizer\"}").unwrap();
    let err = load_tokenizer(file.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, TokenizerError::Invalid { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot load tokenizer `{}`", file.display())),
        "{err}"
    );
    // The directory spec reports the file inside it.
    let err = load_tokenizer(dir.path().to_str().unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&Path::new(&file).display().to_string()),
        "{err}"
    );
}

#[test]
fn an_unknown_tiktoken_model_is_named_in_the_error() {
    let err = load_tokenizer("tiktoken:llama-3-70b").unwrap_err();
    assert!(
        matches!(err, TokenizerError::UnknownModel { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "no tiktoken encoding known for model `llama-3-70b`"
    );
}
