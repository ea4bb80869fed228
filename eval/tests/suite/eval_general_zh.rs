//! `general_qa` on Chinese text against EvalScope 1.14.1 itself: EvalScope cuts text holding a
//! Chinese character (U+4E00..U+9FA5) with `jieba.cut` (jieba 0.42.1) before BLEU and ROUGE.
//! `tests/fixtures/eval/general/reference.json` (`make_reference.py`) holds, for EvalScope's
//! Chinese example set and for `zh_pairs` (plain Chinese, Chinese mixed with English,
//! punctuation, numbers, empty and blank sides, and the corners of jieba's segmentation), what
//! Python's jieba made of each text and general_qa's own `match_score` values.
//!
//! Tolerance: none. The segmentation must equal Python jieba's token for token, and every score
//! must be the same float, bit for bit: the fixture gives each value as Python's `repr`, read
//! back here with Rust's correctly rounded parser.

use serde_json::Value;
use swarm_eval::benchmarks::general::{contains_chinese, jieba};
use swarm_eval::benchmarks::general_qa;
use swarm_eval::registry::benchmark;

use super::eval_general::{args_of, reference};

/// Every scored (completion, reference) entry with Chinese text: the qa_example samples' and
/// the `zh_pairs`.
fn chinese_entries() -> Vec<Value> {
    let r = reference();
    let example = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "qa_example")
        .unwrap();
    let mut out: Vec<Value> = example["samples"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["scores"].as_array().unwrap().clone())
        .collect();
    out.extend(r["zh_pairs"].as_array().unwrap().iter().cloned());
    out
}

/// EvalScope's values of an entry, exactly (from Python's `repr`).
fn exact_values(entry: &Value) -> Vec<(String, f64)> {
    entry["repr"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().parse::<f64>().unwrap()))
        .collect()
}

#[test]
fn jieba_segments_as_python_jieba_0_42_1() {
    let mut checked = 0;
    for entry in chinese_entries() {
        for side in ["completion", "reference"] {
            let text = entry[side].as_str().unwrap();
            let theirs = &entry["jieba"][side];
            assert_eq!(contains_chinese(text), !theirs.is_null(), "{text:?}");
            if theirs.is_null() {
                continue;
            }
            let theirs: Vec<&str> = theirs
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(jieba::cut(text), theirs, "{text:?}");
            checked += 1;
        }
    }
    assert_eq!(checked, 4 + 4 + 45);
}

#[test]
fn chinese_bleu_and_rouge_equal_evalscope_bit_for_bit() {
    let r = reference();
    let pairs = r["zh_pairs"].as_array().unwrap();
    assert!(pairs.len() >= 12);
    for entry in pairs {
        let completion = entry["completion"].as_str().unwrap();
        let gold = entry["reference"].as_str().unwrap();
        let ours = general_qa::scores(completion, gold);
        let theirs = exact_values(entry);
        assert_eq!(ours.len(), theirs.len(), "{completion:?} / {gold:?}");
        for (k, theirs) in theirs {
            let ours = ours[k.as_str()];
            assert!(
                ours.to_bits() == theirs.to_bits(),
                "{completion:?} / {gold:?} {k}: ours {ours:e}, EvalScope {theirs:e}"
            );
        }
        assert_eq!(entry["main"], general_qa::MAIN);
    }
}

#[test]
fn evalscopes_chinese_example_loads_and_scores_as_evalscope() {
    let r = reference();
    let case = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "qa_example")
        .unwrap();
    let b = benchmark("general_qa").unwrap();
    let ours = b.load(&args_of(case)).unwrap();
    let theirs = case["samples"].as_array().unwrap();
    assert_eq!(ours.len(), 4);
    for (o, t) in ours.iter().zip(theirs) {
        for s in t["scores"].as_array().unwrap() {
            let completion = s["completion"].as_str().unwrap();
            let label = format!("{} {completion:?}", o.id);
            assert_eq!(o.gold, s["reference"].as_str().unwrap(), "{label}");
            let score = b.score(&b.extract(completion, o), o);
            assert_eq!(score.main, s["main"].as_str().unwrap(), "{label}");
            let theirs = exact_values(s);
            assert_eq!(score.values.len(), theirs.len(), "{label}");
            for (k, theirs) in theirs {
                let ours = score.values[k.as_str()];
                assert!(
                    ours.to_bits() == theirs.to_bits(),
                    "{label} {k}: ours {ours:e}, EvalScope {theirs:e}"
                );
            }
        }
    }
}

/// A broad check beside the fixture: every Chinese text of ../shared/data, as Python's jieba
/// cut it (`make_jieba_corpus.py` writes the file; the texts stay out of the repository).
#[test]
#[ignore = "needs SWARM_JIEBA_CORPUS, written by tests/fixtures/eval/general/make_jieba_corpus.py"]
fn jieba_corpus_segments_as_python_jieba() {
    let path = std::env::var_os("SWARM_JIEBA_CORPUS").expect("SWARM_JIEBA_CORPUS names the file");
    let text = std::fs::read_to_string(path).unwrap();
    let mut differ = Vec::new();
    let mut checked = 0;
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let text = entry["text"].as_str().unwrap();
        let theirs: Vec<&str> = entry["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let ours = jieba::cut(text);
        if ours != theirs {
            differ.push(format!("{text:?}\n ours:   {ours:?}\n theirs: {theirs:?}"));
        }
        checked += 1;
    }
    assert!(checked > 0);
    assert!(
        differ.is_empty(),
        "{} of {checked} texts differ:\n{}",
        differ.len(),
        differ.join("\n")
    );
}
