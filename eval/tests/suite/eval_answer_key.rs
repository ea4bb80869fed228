//! Answer keys for llm-sim: built from real benchmark slices (fixtures/eval), every correct text
//! scores 1 and every wrong one 0 under the benchmark's own extractor and scorer, in the
//! benchmark's answer format, keyed by the SHA-256 of the last user message; written and read
//! back as JSON lines.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use swarm_eval::answer_key::{KeyEntry, THINKING, build, prompt_sha256, sha256_hex, write_jsonl};
use swarm_eval::filters::remove_until;
use swarm_eval::registry::benchmark;
use swarm_eval::{Benchmark, DatasetArgs, Sample};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn load(name: &str, path: &str) -> (Box<dyn Benchmark>, Vec<Sample>) {
    let b = benchmark(name).unwrap();
    let args = DatasetArgs {
        local_path: Some(fixtures().join(path)),
        // MMLU-Pro's validation split (its default 5-shot examples) is not in the fixtures.
        few_shot_num: (name == "mmlu_pro").then_some(0),
        ..DatasetArgs::default()
    };
    let samples = b.load(&args).unwrap();
    assert!(samples.len() >= 3, "{name}: {}", samples.len());
    (b, samples)
}

fn main_score(b: &dyn Benchmark, sample: &Sample, completion: &str) -> f64 {
    let score = b.score(&b.extract(completion, sample), sample);
    score.values[&score.main]
}

fn last_user(sample: &Sample) -> &str {
    sample
        .messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()["content"]
        .as_str()
        .unwrap()
}

/// Builds keys with and without thinking and checks every entry independently of the builder;
/// `answer_line` is the last line of a correct answer for a sample.
fn round_trip(name: &str, path: &str, answer_line: impl Fn(&Sample) -> String) {
    let (b, samples) = load(name, path);
    for thinking in [false, true] {
        let entries = build(&samples, b.as_ref(), thinking).unwrap();
        assert_eq!(entries.len(), samples.len());
        for (entry, sample) in entries.iter().zip(&samples) {
            assert_eq!(entry.sample_id, sample.id);
            assert_eq!(entry.prompt_sha256, sha256_hex(last_user(sample)));
            assert_eq!(entry.prompt_sha256.len(), 64);
            assert_ne!(entry.correct, entry.wrong);
            for text in [&entry.correct, &entry.wrong] {
                assert_eq!(text.starts_with(THINKING), thinking, "{text:?}");
                assert!(!text.contains("</think>") || thinking);
            }
            assert!(
                entry.correct.ends_with(&answer_line(sample)),
                "{name} {}: {:?}",
                sample.id,
                entry.correct
            );
            for text in [
                entry.correct.as_str(),
                remove_until(&entry.correct, "</think>"),
            ] {
                assert_eq!(main_score(b.as_ref(), sample, text), 1.0, "{text:?}");
            }
            for text in [entry.wrong.as_str(), remove_until(&entry.wrong, "</think>")] {
                assert_eq!(main_score(b.as_ref(), sample, text), 0.0, "{text:?}");
            }
        }
    }
}

#[test]
fn gsm8k_key_boxes_the_number() {
    round_trip("gsm8k", "gsm8k/test.jsonl", |s| {
        format!("The answer is \\boxed{{{}}}.", s.gold)
    });
    let (b, samples) = load("gsm8k", "gsm8k/test.jsonl");
    let entries = build(&samples, b.as_ref(), false).unwrap();
    // The wrong answer is gold + 1.
    let gold: i64 = samples[0].gold.parse().unwrap();
    assert!(
        entries[0]
            .wrong
            .ends_with(&format!("\\boxed{{{}}}.", gold + 1)),
        "{:?}",
        entries[0].wrong
    );
}

#[test]
fn math_500_key_boxes_latex_answers() {
    round_trip("math_500", "math_500/test.jsonl", |s| {
        format!("The answer is \\boxed{{{}}}.", s.gold.trim())
    });
}

#[test]
fn aime_keys_box_the_integer() {
    round_trip("aime24", "aime24/test.jsonl", |s| {
        format!("\\boxed{{{}}}.", s.gold.trim())
    });
    round_trip("aime25", "aime25", |s| {
        format!("\\boxed{{{}}}.", s.gold.trim())
    });
}

#[test]
fn mmlu_pro_key_answers_a_letter() {
    round_trip("mmlu_pro", "mmlu_pro/test.jsonl", |s| {
        format!("\nANSWER: {}", s.gold)
    });
    // Wrong letters are options too, and not all the same.
    let (b, samples) = load("mmlu_pro", "mmlu_pro/test.jsonl");
    let entries = build(&samples, b.as_ref(), false).unwrap();
    let wrong: BTreeSet<&str> = entries
        .iter()
        .map(|e| e.wrong.rsplit(' ').next().unwrap())
        .collect();
    assert!(wrong.len() > 1, "{wrong:?}");
}

#[test]
fn mmlu_redux_and_gpqa_keys_answer_a_letter() {
    // MMLU-Redux counts any letter of a multi-letter gold ("ABCD" where every option is right).
    round_trip("mmlu_redux", "mmlu_redux/test.jsonl", |s| {
        format!("\nANSWER: {}", &s.gold[..1])
    });
    let (b, samples) = load("mmlu_redux", "mmlu_redux/test.jsonl");
    let all_right = samples.iter().position(|s| s.gold == "ABCD").unwrap();
    let entries = build(&samples, b.as_ref(), false).unwrap();
    assert!(
        entries[all_right].wrong.ends_with("ANSWER: E"),
        "no option is wrong, so the wrong answer is no option: {:?}",
        entries[all_right].wrong
    );
    round_trip("gpqa_diamond", "gpqa/gpqa_diamond.csv", |s| {
        format!("\nANSWER: {}", s.gold)
    });
}

#[test]
fn iquiz_key_answers_in_chinese() {
    round_trip("iquiz", "iquiz/iquiz.jsonl", |s| {
        format!("\n答案：{}", s.gold)
    });
}

#[test]
fn ceval_key_answers_in_chinese() {
    // C-Eval's data may not be copied into the project: one handmade question.
    let b = benchmark("ceval").unwrap();
    let sample = Sample {
        id: "computer_network_0".into(),
        benchmark: "ceval".into(),
        subset: "computer_network".into(),
        messages: vec![
            json!({"role": "user", "content": "问题：1+1=?\n选项：\nA. 1\nB. 2\nC. 3\nD. 4\n"}),
        ],
        gold: "B".into(),
        choices: vec!["1".into(), "2".into(), "3".into(), "4".into()],
        metadata: serde_json::Map::new(),
    };
    let entries = build(std::slice::from_ref(&sample), b.as_ref(), true).unwrap();
    assert!(entries[0].correct.ends_with("\n答案：B"), "{entries:?}");
    assert!(entries[0].wrong.ends_with("\n答案：C"), "{entries:?}");
    assert_eq!(main_score(b.as_ref(), &sample, &entries[0].correct), 1.0);
    assert_eq!(main_score(b.as_ref(), &sample, &entries[0].wrong), 0.0);
}

#[test]
fn prompt_digest_is_the_contract_with_llm_sim() {
    // The same digests llm-sim's tests pin.
    assert_eq!(
        sha256_hex("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex("答案"),
        "ce820ae814b908c7c0375effdae125d371585b0304439b8bfb8c4d748da3496e"
    );
    let (_, samples) = load("gsm8k", "gsm8k/test.jsonl");
    let mut sample = samples[0].clone();
    sample.messages = vec![
        json!({"role": "system", "content": "be brief"}),
        json!({"role": "user", "content": "first"}),
        json!({"role": "assistant", "content": "ok"}),
        json!({"role": "user", "content": "abc"}),
    ];
    assert_eq!(
        prompt_sha256(&sample).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "the last user message is hashed"
    );
}

#[test]
fn key_file_is_json_lines_with_the_contract_fields() {
    let (b, samples) = load("iquiz", "iquiz/iquiz.jsonl");
    let entries = build(&samples, b.as_ref(), true).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.jsonl");
    write_jsonl(&path, &entries).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), entries.len());
    assert!(text.ends_with('\n'));
    for (line, entry) in lines.iter().zip(&entries) {
        let v: Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["prompt_sha256", "correct", "wrong", "sample_id"]);
        assert_eq!(&serde_json::from_value::<KeyEntry>(v).unwrap(), entry);
    }

    let err = write_jsonl(&dir.path().join("no/such/dir/key.jsonl"), &entries)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/dir/key.jsonl"), "{err}");
}

#[test]
fn unanswerable_samples_are_refused_by_name() {
    let (b, samples) = load("mmlu_pro", "mmlu_pro/test.jsonl");

    let mut no_user = samples[0].clone();
    no_user.messages = vec![json!({"role": "system", "content": "x"})];
    let err = build(&[no_user], b.as_ref(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&samples[0].id) && err.contains("no user message"),
        "{err}"
    );

    // A gold that is no option's label cannot be answered correctly.
    let mut bad_gold = samples[0].clone();
    bad_gold.gold = "Z".into();
    bad_gold.choices.truncate(4);
    let err = build(&[bad_gold], b.as_ref(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&samples[0].id) && err.contains("\"Z\"") && err.contains("scores correct"),
        "{err}"
    );

    // Two samples the simulator cannot tell apart but that need different answers.
    let mut twin = samples[0].clone();
    twin.id = "twin".into();
    twin.gold = if samples[0].gold == "A" { "B" } else { "A" }.into();
    let err = build(&[samples[0].clone(), twin], b.as_ref(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("twin") && err.contains(&samples[0].id) && err.contains("same prompt"),
        "{err}"
    );

    // The same sample twice is fine: one question, asked twice.
    let entries = build(&[samples[0].clone(), samples[0].clone()], b.as_ref(), false).unwrap();
    assert_eq!(entries[0], entries[1]);
}

/// The full published sets in ../shared/data, when present: every sample gets a key.
#[test]
fn full_published_sets_all_get_keys() {
    let data = &super::shared::shared_data();
    for (name, path) in [
        ("math_500", "math_500/test.jsonl"),
        ("gsm8k", "gsm8k/test.jsonl"),
        ("aime24", "aime24/test.jsonl"),
        ("aime25", "aime25/test.jsonl"),
        ("mmlu_redux", "mmlu_redux/mmlu_redux_2.0_test.jsonl"),
        ("ceval", "ceval/ceval_val.jsonl"),
        ("iquiz", "iquiz"),
    ] {
        let path = data.join(path);
        if !path.exists() {
            eprintln!("skipping {name}: {} is absent", path.display());
            continue;
        }
        let b = benchmark(name).unwrap();
        let samples = b
            .load(&DatasetArgs {
                local_path: Some(path),
                ..DatasetArgs::default()
            })
            .unwrap();
        // Published sets hold a few repeated questions with contradicting golds (C-Eval val:
        // college_economics 5 and 54); the builder refuses them, so they are left out here.
        let mut golds: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for s in &samples {
            golds.entry(last_user(s)).or_default().insert(&s.gold);
        }
        let clear: Vec<Sample> = samples
            .iter()
            .filter(|s| golds[last_user(s)].len() == 1)
            .cloned()
            .collect();
        assert!(samples.len() - clear.len() <= 4, "{name}");
        if clear.len() < samples.len() {
            assert!(build(&samples, b.as_ref(), true).is_err(), "{name}");
        }
        let entries = build(&clear, b.as_ref(), true).unwrap();
        assert_eq!(entries.len(), clear.len(), "{name}");
    }
}
