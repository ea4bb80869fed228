//! Answer-key mode end to end over loopback HTTP: keyed questions get exactly the chosen number
//! of correct answers, streamed or not, with usage that counts the streamed pieces.

use std::net::SocketAddr;
use std::path::PathBuf;

use llm_sim::{
    AnswerKeyConfig, AnswerSelection, ReasoningMode, SimConfig, SimHandle, answers_correctly,
    exact_count, prompt_sha256,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const N: usize = 10;
const SEED: u64 = 42;

/// The user message of question `i`; question 0 is "abc", whose digest is pinned below.
fn question(i: usize) -> String {
    if i == 0 {
        "abc".to_owned()
    } else {
        format!("Question {i}: what is {i} + {i}?\nAnswer with a letter.")
    }
}

fn correct(i: usize) -> String {
    format!(
        "Adding gives \"{}\".\nThe answer is \\boxed{{{}}}.",
        2 * i,
        2 * i
    )
}

fn wrong(i: usize) -> String {
    format!("答案：{}\n\nThe answer is \\boxed{{{}}}.", i, 2 * i + 1)
}

/// Writes the key of questions 0..N to a fresh file and returns its path.
fn write_key(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.jsonl"));
    let mut text = String::new();
    for i in 0..N {
        let line = json!({
            "prompt_sha256": prompt_sha256(&question(i)),
            "correct": correct(i),
            "wrong": wrong(i),
            "sample_id": format!("main_{i}"),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

async fn sim(config: SimConfig) -> SimHandle {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    llm_sim::start(config, bind, CancellationToken::new())
        .await
        .unwrap()
}

fn config(path: PathBuf, accuracy: f64, selection: AnswerSelection) -> SimConfig {
    let mut c = SimConfig::instant();
    c.seed = SEED;
    c.answer_key = Some(AnswerKeyConfig {
        path,
        accuracy,
        selection,
    });
    c
}

fn request(user: &str, stream: bool, max_tokens: Option<u32>) -> Value {
    let mut body = json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": user},
        ],
        "stream": stream,
        "stream_options": {"include_usage": true},
    });
    if let Some(max) = max_tokens {
        body["max_tokens"] = json!(max);
    }
    body
}

/// What one chat answer said.
#[derive(Debug, PartialEq)]
struct Said {
    content: String,
    reasoning: String,
    finish_reason: String,
    completion_tokens: u64,
    reasoning_tokens: u64,
    /// Streamed token events (chunks with a content or reasoning delta); 0 when not streamed.
    token_events: u64,
}

async fn ask(sim: &SimHandle, user: &str, stream: bool, max_tokens: Option<u32>) -> Said {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", sim.url()))
        .json(&request(user, stream, max_tokens))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    if !stream {
        let v: Value = serde_json::from_str(&text).unwrap();
        let message = &v["choices"][0]["message"];
        return Said {
            content: message["content"].as_str().unwrap().to_owned(),
            reasoning: message["reasoning_content"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            finish_reason: v["choices"][0]["finish_reason"]
                .as_str()
                .unwrap()
                .to_owned(),
            completion_tokens: v["usage"]["completion_tokens"].as_u64().unwrap(),
            reasoning_tokens: v["usage"]["completion_tokens_details"]["reasoning_tokens"]
                .as_u64()
                .unwrap(),
            token_events: 0,
        };
    }
    let mut said = Said {
        content: String::new(),
        reasoning: String::new(),
        finish_reason: String::new(),
        completion_tokens: 0,
        reasoning_tokens: 0,
        token_events: 0,
    };
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.last(), Some(&"data: [DONE]"));
    for event in &events[..events.len() - 1] {
        let v: Value = serde_json::from_str(event.strip_prefix("data: ").unwrap()).unwrap();
        if let Some(usage) = v.get("usage").filter(|u| !u.is_null()) {
            said.completion_tokens = usage["completion_tokens"].as_u64().unwrap();
            said.reasoning_tokens = usage["completion_tokens_details"]["reasoning_tokens"]
                .as_u64()
                .unwrap();
            continue;
        }
        let choice = &v["choices"][0];
        let delta = &choice["delta"];
        if delta.get("role").is_some() {
            assert_eq!(delta["content"], "");
            continue;
        }
        said.token_events += 1;
        if let Some(c) = delta["content"].as_str() {
            said.content.push_str(c);
        }
        if let Some(r) = delta["reasoning_content"].as_str() {
            said.reasoning.push_str(r);
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            said.finish_reason = f.to_owned();
        }
    }
    said
}

#[test]
fn prompt_digest_is_plain_sha256_hex() {
    // The contract with the key writer: SHA-256 of the UTF-8 content, lowercase hex.
    assert_eq!(
        prompt_sha256(&question(0)),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        prompt_sha256("答案"),
        "ce820ae814b908c7c0375effdae125d371585b0304439b8bfb8c4d748da3496e",
        "non-ASCII content hashes its UTF-8 bytes"
    );
}

#[tokio::test]
async fn exactly_k_of_n_correct_streamed_or_not() {
    let sim = sim(config(write_key("exact"), 0.7, AnswerSelection::Exact)).await;
    let k = exact_count(N, 0.7);
    assert_eq!(k, 7);
    let mut right = Vec::new();
    for i in 0..N {
        let plain = ask(&sim, &question(i), false, None).await;
        let streamed = ask(&sim, &question(i), true, None).await;
        assert!(
            plain.content == correct(i) || plain.content == wrong(i),
            "question {i}: {:?}",
            plain.content
        );
        assert_eq!(streamed.content, plain.content, "question {i}");
        assert_eq!(plain.finish_reason, "stop");
        assert_eq!(streamed.finish_reason, "stop");
        assert_eq!(
            streamed.token_events, streamed.completion_tokens,
            "one token per streamed piece"
        );
        assert_eq!(plain.completion_tokens, streamed.completion_tokens);
        let words = plain.content.split_whitespace().count() as u64;
        assert_eq!(plain.completion_tokens, words, "{:?}", plain.content);
        assert_eq!(plain.reasoning_tokens, 0);
        if plain.content == correct(i) {
            right.push(i);
        }
    }
    assert_eq!(right.len(), k, "correct answers: {right:?}");

    // Asking again, in another order, changes nothing.
    for i in (0..N).rev() {
        let again = ask(&sim, &question(i), i % 2 == 0, None).await;
        assert_eq!(
            again.content == correct(i),
            right.contains(&i),
            "question {i}"
        );
    }
    sim.shutdown().await;

    // A restarted simulator with the same seed gives the same answers; at accuracy 1 and 0 all
    // are right and wrong.
    let sim = self::sim(config(
        write_key("exact_again"),
        0.7,
        AnswerSelection::Exact,
    ))
    .await;
    for i in 0..N {
        let said = ask(&sim, &question(i), false, None).await;
        assert_eq!(
            said.content == correct(i),
            right.contains(&i),
            "question {i}"
        );
    }
    sim.shutdown().await;
    for (accuracy, expected) in [(1.0, N), (0.0, 0)] {
        let sim = self::sim(config(write_key("edge"), accuracy, AnswerSelection::Exact)).await;
        let mut count = 0;
        for i in 0..N {
            count += usize::from(ask(&sim, &question(i), true, None).await.content == correct(i));
        }
        assert_eq!(count, expected, "accuracy {accuracy}");
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn per_question_selection_is_computable_by_the_client() {
    let sim = sim(config(
        write_key("per_question"),
        0.5,
        AnswerSelection::PerQuestion,
    ))
    .await;
    let mut right = 0;
    for i in 0..N {
        let said = ask(&sim, &question(i), i % 2 == 1, None).await;
        let expected = answers_correctly(SEED, &prompt_sha256(&question(i)), 0.5);
        assert_eq!(said.content == correct(i), expected, "question {i}");
        assert_eq!(said.content == wrong(i), !expected, "question {i}");
        right += usize::from(expected);
    }
    assert!(right > 0 && right < N, "seed 42 splits the ten: {right}");
    sim.shutdown().await;
}

#[tokio::test]
async fn unkeyed_prompts_and_completions_get_generated_words() {
    let sim = sim(config(write_key("fallback"), 1.0, AnswerSelection::Exact)).await;
    let said = ask(&sim, "not a keyed question", false, Some(3)).await;
    assert_eq!(said.content, "lorem ipsum dolor ");
    assert_eq!(said.finish_reason, "length");
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/completions", sim.url()))
        .json(&json!({"prompt": question(1), "max_tokens": 2}))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["choices"][0]["text"], "lorem ipsum ");
    sim.shutdown().await;
}

#[tokio::test]
async fn max_tokens_cuts_a_keyed_answer() {
    let sim = sim(config(write_key("cut"), 1.0, AnswerSelection::Exact)).await;
    for stream in [false, true] {
        let said = ask(&sim, &question(3), stream, Some(2)).await;
        assert_eq!(said.content, "Adding gives ");
        assert_eq!(said.finish_reason, "length");
        assert_eq!(said.completion_tokens, 2);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn think_section_goes_to_reasoning_in_field_mode() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("think.jsonl");
    let answer = "<think>\nadd the two numbers\n</think>\n\nANSWER: B";
    let line = json!({
        "prompt_sha256": prompt_sha256("q"),
        "correct": answer,
        "wrong": "ANSWER: C",
    });
    std::fs::write(&path, format!("{line}\n")).unwrap();

    let mut c = config(path.clone(), 1.0, AnswerSelection::Exact);
    c.reasoning.mode = ReasoningMode::Field;
    let sim = sim(c).await;
    for stream in [false, true] {
        let said = ask(&sim, "q", stream, None).await;
        assert_eq!(said.reasoning, "add the two numbers");
        assert_eq!(said.content, "ANSWER: B");
        assert_eq!((said.completion_tokens, said.reasoning_tokens), (6, 4));
    }
    sim.shutdown().await;

    let mut c = config(path, 1.0, AnswerSelection::Exact);
    c.reasoning.mode = ReasoningMode::ThinkTags;
    let sim = self::sim(c).await;
    for stream in [false, true] {
        let said = ask(&sim, "q", stream, None).await;
        assert_eq!(said.content, answer);
        assert_eq!(said.reasoning, "");
        assert_eq!((said.completion_tokens, said.reasoning_tokens), (8, 6));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_bad_key_file_stops_the_start_with_file_and_line() {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad.jsonl");
    let good = json!({"prompt_sha256": prompt_sha256("q"), "correct": "A", "wrong": "B"});
    std::fs::write(&path, format!("{good}\n\n{{\"prompt_sha256\": 5}}\n")).unwrap();
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let err = llm_sim::start(
        config(path.clone(), 0.5, AnswerSelection::Exact),
        bind,
        CancellationToken::new(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!("{}:3:", path.display())) && err.contains("prompt_sha256"),
        "{err}"
    );

    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("missing.jsonl");
    let err = llm_sim::start(
        config(missing.clone(), 0.5, AnswerSelection::Exact),
        bind,
        CancellationToken::new(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot read answer key") && err.contains("missing.jsonl"),
        "{err}"
    );
}
