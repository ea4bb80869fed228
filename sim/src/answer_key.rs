//! Answer-key mode: the simulator answers benchmark questions from a key file, a chosen fraction
//! of them correctly, so an end-to-end eval against it has a known true score.
//!
//! # The key file
//!
//! JSON lines, one per benchmark sample (blank lines are skipped):
//!
//! ```json
//! {"prompt_sha256": "<64 hex digits>", "correct": "<completion that scores 1>", "wrong": "<completion that scores 0>", "sample_id": "main_0"}
//! ```
//!
//! `prompt_sha256` is the SHA-256 of the sample's last user message content (a string), UTF-8,
//! in hex. `sample_id` is optional and only named in messages. Lines with the same
//! `prompt_sha256` must carry the same texts and count as one question. swarmbench writes such
//! files with `swarm_eval::answer_key`; this crate reads only the file.
//!
//! # Which questions are answered correctly
//!
//! Each question gets a rank `h = question_hash(seed, prompt_sha256)`, a 64-bit hash of the
//! simulator's seed and the question (see [`question_hash`]). With N distinct questions in the
//! key and accuracy `a`:
//!
//! - [`AnswerSelection::Exact`] (the default): the `k = floor(a × N + 0.5)` questions of lowest
//!   `h` (ties by `prompt_sha256`) are answered correctly, the others wrongly, so the true score
//!   over the key's questions is exactly `k / N` ([`exact_count`]). A question repeated in the
//!   key counts once here; an eval that asks it twice scores it twice, the same way.
//! - [`AnswerSelection::PerQuestion`]: a question is answered correctly iff `h / 2^64 < a`
//!   ([`answers_correctly`]), independently of every other question; about `a × N` in all.
//!
//! Both depend only on the seed and the key: not on request order, timing, or how often a
//! question is asked. A chat request whose last user message is in the key gets the chosen
//! text as its answer, streamed one piece (a word with the whitespace after it) per token;
//! any other request gets generated words as usual.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::plan::splitmix64;
use crate::{AnswerKeyConfig, AnswerSelection, SimError};

/// The rank of a question under `seed`: FNV-1a (64-bit) of the lowercased `prompt_sha256`
/// string, mixed with the seed by splitmix64. Uniform over `u64` for any fixed seed.
pub fn question_hash(seed: u64, prompt_sha256: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in prompt_sha256.bytes() {
        h ^= u64::from(byte.to_ascii_lowercase());
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix64(h ^ splitmix64(seed))
}

/// Whether the question `prompt_sha256` is answered correctly under
/// [`AnswerSelection::PerQuestion`]: `question_hash(seed, prompt_sha256) / 2^64 < accuracy`
/// (the hash's top 53 bits, so the fraction is exact in an `f64`).
pub fn answers_correctly(seed: u64, prompt_sha256: &str, accuracy: f64) -> bool {
    let unit = (question_hash(seed, prompt_sha256) >> 11) as f64 / (1u64 << 53) as f64;
    unit < accuracy
}

/// How many of `n` questions [`AnswerSelection::Exact`] answers correctly:
/// `floor(accuracy × n + 0.5)`, clamped to `[0, n]`.
pub fn exact_count(n: usize, accuracy: f64) -> usize {
    let k = (accuracy * n as f64 + 0.5).floor();
    if k.is_nan() || k <= 0.0 {
        0
    } else {
        (k as usize).min(n)
    }
}

/// The key's name for a prompt: the SHA-256 of `content` in lowercase hex.
pub fn prompt_sha256(content: &str) -> String {
    crate::sha256::hex(content)
}

/// A loaded answer key with its correct/wrong choice made for every question.
#[derive(Debug, Clone)]
pub struct AnswerKey {
    /// `prompt_sha256` → the answer the simulator gives.
    answers: HashMap<String, Chosen>,
    correct: usize,
    /// Every key text (trimmed) → whether it is a right answer (texts that are right for one question
    /// and wrong for another are left out: their truth depends on the question).
    truth: HashMap<String, bool>,
}

#[derive(Debug, Clone)]
struct Chosen {
    correct: bool,
    text: String,
    /// The question's right and wrong texts.
    right: String,
    wrong: String,
}

/// One line of the key file.
struct Line {
    prompt_sha256: String,
    correct: String,
    wrong: String,
    sample_id: Option<String>,
}

/// The fields a key line may have.
const FIELDS: [&str; 4] = ["prompt_sha256", "correct", "wrong", "sample_id"];

impl Line {
    /// Parses one line; errors name the field.
    fn parse(raw: &str) -> Result<Line, String> {
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| format!("not JSON: {e}"))?;
        let serde_json::Value::Object(mut map) = value else {
            return Err(format!("expected a JSON object, got {value}"));
        };
        if let Some(unknown) = map.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(format!(
                "unknown field `{unknown}`, expected one of {}",
                FIELDS.join(", ")
            ));
        }
        let mut string = |field: &str, required: bool| match map.remove(field) {
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            None => Err(format!("missing field `{field}`")),
            Some(other) => Err(format!("field `{field}`: expected a string, got {other}")),
        };
        let prompt_sha256 = string("prompt_sha256", true)?.unwrap_or_default();
        let correct = string("correct", true)?.unwrap_or_default();
        let wrong = string("wrong", true)?.unwrap_or_default();
        let sample_id = string("sample_id", false)?;
        Ok(Line {
            prompt_sha256,
            correct,
            wrong,
            sample_id,
        })
    }
}

/// A question read from the file, before the choice.
struct Question {
    line: usize,
    sample_id: Option<String>,
    correct: String,
    wrong: String,
}

impl AnswerKey {
    /// Reads `config.path` and chooses answers under `seed`.
    pub async fn load(config: &AnswerKeyConfig, seed: u64) -> Result<Self, SimError> {
        let text = tokio::fs::read_to_string(&config.path)
            .await
            .map_err(|source| SimError::AnswerKeyRead {
                path: config.path.clone(),
                source,
            })?;
        Self::parse(&text, seed, config)
    }

    /// Parses key-file `text` (errors name `config.path` and the line) and chooses answers under
    /// `seed`.
    pub fn parse(text: &str, seed: u64, config: &AnswerKeyConfig) -> Result<Self, SimError> {
        let path = config.path.as_path();
        let mut questions: HashMap<String, Question> = HashMap::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let bad = |message: String| SimError::AnswerKeyLine {
                path: path.to_owned(),
                line,
                message,
            };
            let entry = Line::parse(raw).map_err(bad)?;
            let sha = entry.prompt_sha256.to_ascii_lowercase();
            if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "field `prompt_sha256`: expected 64 hex digits, got {:?}",
                    entry.prompt_sha256
                )));
            }
            for (field, value) in [("correct", &entry.correct), ("wrong", &entry.wrong)] {
                if value.trim().is_empty() {
                    return Err(bad(format!("field `{field}`: must not be blank")));
                }
            }
            match questions.entry(sha) {
                Entry::Vacant(slot) => {
                    slot.insert(Question {
                        line,
                        sample_id: entry.sample_id,
                        correct: entry.correct,
                        wrong: entry.wrong,
                    });
                }
                Entry::Occupied(seen) => {
                    let seen = seen.get();
                    if seen.correct != entry.correct || seen.wrong != entry.wrong {
                        let name = |id: &Option<String>| {
                            id.as_deref()
                                .map_or(String::new(), |id| format!(" (sample {id})"))
                        };
                        return Err(bad(format!(
                            "prompt_sha256 {}{} is already keyed at line {}{} with other answers",
                            entry.prompt_sha256,
                            name(&entry.sample_id),
                            seen.line,
                            name(&seen.sample_id),
                        )));
                    }
                }
            }
        }
        if questions.is_empty() {
            return Err(SimError::AnswerKeyEmpty(path.to_owned()));
        }
        Ok(Self::choose(questions, seed, config))
    }

    fn choose(questions: HashMap<String, Question>, seed: u64, config: &AnswerKeyConfig) -> Self {
        let mut ranked: Vec<(u64, String, Question)> = questions
            .into_iter()
            .map(|(sha, q)| (question_hash(seed, &sha), sha, q))
            .collect();
        ranked.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let k = exact_count(ranked.len(), config.accuracy);
        let mut answers = HashMap::with_capacity(ranked.len());
        let mut correct = 0;
        for (rank, (_, sha, q)) in ranked.into_iter().enumerate() {
            let right = match config.selection {
                AnswerSelection::Exact => rank < k,
                AnswerSelection::PerQuestion => answers_correctly(seed, &sha, config.accuracy),
            };
            correct += usize::from(right);
            let text = if right {
                q.correct.clone()
            } else {
                q.wrong.clone()
            };
            answers.insert(
                sha,
                Chosen {
                    correct: right,
                    text,
                    right: q.correct,
                    wrong: q.wrong,
                },
            );
        }
        let mut truth: HashMap<String, bool> = HashMap::new();
        let mut mixed = Vec::new();
        for c in answers.values() {
            for (text, right) in [(&c.right, true), (&c.wrong, false)] {
                match truth.entry(text.trim().to_owned()) {
                    Entry::Vacant(v) => {
                        v.insert(right);
                    }
                    Entry::Occupied(o) if *o.get() != right => mixed.push(text.trim().to_owned()),
                    Entry::Occupied(_) => {}
                }
            }
        }
        for text in mixed {
            truth.remove(&text);
        }
        AnswerKey {
            answers,
            correct,
            truth,
        }
    }

    /// Whether `text` is the right answer of the question `prompt_sha256` (false: its wrong
    /// answer; None: neither, or the question is not in the key). Texts compare with surrounding
    /// whitespace trimmed.
    pub fn is_right_answer(&self, prompt_sha256: &str, text: &str) -> Option<bool> {
        let c = self.chosen(prompt_sha256)?;
        let text = text.trim();
        if c.right.trim() == text {
            Some(true)
        } else if c.wrong.trim() == text {
            Some(false)
        } else {
            None
        }
    }

    /// Whether `text` is a right answer of the key, whatever the question (None: not a key
    /// text, or right for one question and wrong for another).
    pub fn is_right_text(&self, text: &str) -> Option<bool> {
        self.truth.get(text.trim()).copied()
    }

    /// Number of distinct questions.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether the key has no questions (never true for a loaded key).
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// How many distinct questions are answered correctly.
    pub fn correct_count(&self) -> usize {
        self.correct
    }

    /// Whether the question `prompt_sha256` is answered correctly (None: not in the key).
    pub fn answers_correctly(&self, prompt_sha256: &str) -> Option<bool> {
        self.chosen(prompt_sha256).map(|c| c.correct)
    }

    /// The text the simulator answers `prompt_sha256` with (None: not in the key).
    pub fn answer(&self, prompt_sha256: &str) -> Option<&str> {
        self.chosen(prompt_sha256).map(|c| c.text.as_str())
    }

    fn chosen(&self, prompt_sha256: &str) -> Option<&Chosen> {
        match self.answers.get(prompt_sha256) {
            Some(c) => Some(c),
            None => self.answers.get(&prompt_sha256.to_ascii_lowercase()),
        }
    }

    /// The answer to a chat prompt whose last user message is `content`.
    pub fn answer_for_prompt(&self, content: &str) -> Option<&str> {
        self.answer(&prompt_sha256(content))
    }

    /// For the question `prompt_sha256`: whether it is answered correctly, and its right and
    /// wrong texts (None: not in the key).
    pub fn texts(&self, prompt_sha256: &str) -> Option<(bool, &str, &str)> {
        self.chosen(prompt_sha256)
            .map(|c| (c.correct, c.right.as_str(), c.wrong.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn key_text(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "{{\"prompt_sha256\":\"{}\",\"correct\":\"ANSWER: A\",\"wrong\":\"ANSWER: B {i}\",\"sample_id\":\"s_{i}\"}}\n",
                    prompt_sha256(&format!("question {i}"))
                )
            })
            .collect()
    }

    fn config(accuracy: f64, selection: AnswerSelection) -> AnswerKeyConfig {
        AnswerKeyConfig {
            path: "key.jsonl".into(),
            accuracy,
            selection,
        }
    }

    fn correct_set(key: &AnswerKey, n: usize) -> BTreeSet<usize> {
        (0..n)
            .filter(|i| {
                key.answers_correctly(&prompt_sha256(&format!("question {i}")))
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn exact_count_rounds_half_up() {
        assert_eq!(exact_count(10, 0.7), 7);
        assert_eq!(exact_count(3, 0.5), 2);
        assert_eq!(exact_count(7, 0.5), 4);
        assert_eq!(exact_count(20, 0.35), 7);
        assert_eq!(exact_count(9, 0.0), 0);
        assert_eq!(exact_count(9, 1.0), 9);
        assert_eq!(exact_count(0, 0.7), 0);
        assert_eq!(exact_count(5, f64::NAN), 0);
    }

    #[test]
    fn exact_selection_hits_the_count_and_grows_with_accuracy() {
        let text = key_text(50);
        let mut previous = BTreeSet::new();
        for accuracy in [0.0, 0.1, 0.33, 0.7, 0.71, 1.0] {
            let key =
                AnswerKey::parse(&text, 7, &config(accuracy, AnswerSelection::Exact)).unwrap();
            assert_eq!(key.len(), 50);
            assert_eq!(key.correct_count(), exact_count(50, accuracy));
            let set = correct_set(&key, 50);
            assert_eq!(set.len(), key.correct_count());
            assert!(
                previous.is_subset(&set),
                "more accuracy keeps the earlier ones"
            );
            previous = set;
        }
        let a = AnswerKey::parse(&text, 7, &config(0.5, AnswerSelection::Exact)).unwrap();
        let b = AnswerKey::parse(&text, 8, &config(0.5, AnswerSelection::Exact)).unwrap();
        assert_ne!(correct_set(&a, 50), correct_set(&b, 50), "the seed picks");
        // Line order does not matter.
        let reversed: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
        let r = AnswerKey::parse(&reversed, 7, &config(0.5, AnswerSelection::Exact)).unwrap();
        assert_eq!(correct_set(&a, 50), correct_set(&r, 50));
    }

    #[test]
    fn per_question_selection_follows_the_public_rule() {
        let text = key_text(200);
        let key = AnswerKey::parse(&text, 3, &config(0.7, AnswerSelection::PerQuestion)).unwrap();
        let mut count = 0;
        for i in 0..200 {
            let sha = prompt_sha256(&format!("question {i}"));
            let expected = answers_correctly(3, &sha, 0.7);
            assert_eq!(key.answers_correctly(&sha), Some(expected));
            assert_eq!(key.answer(&sha) == Some("ANSWER: A"), expected);
            count += usize::from(expected);
        }
        assert_eq!(key.correct_count(), count);
        assert!((110..=170).contains(&count), "{count}");
        let sha = prompt_sha256("question 0");
        assert!(answers_correctly(3, &sha, 1.0));
        assert!(!answers_correctly(3, &sha, 0.0));
        assert_eq!(
            answers_correctly(3, &sha.to_uppercase(), 0.5),
            answers_correctly(3, &sha, 0.5)
        );
    }

    #[test]
    fn answers_are_the_chosen_texts() {
        let key = AnswerKey::parse(&key_text(10), 1, &config(0.7, AnswerSelection::Exact)).unwrap();
        for i in 0..10 {
            let sha = prompt_sha256(&format!("question {i}"));
            let text = key.answer(&sha).unwrap();
            if key.answers_correctly(&sha).unwrap() {
                assert_eq!(text, "ANSWER: A");
            } else {
                assert_eq!(text, format!("ANSWER: B {i}"));
            }
            assert_eq!(key.answer(&sha.to_uppercase()), Some(text));
            assert_eq!(key.answer_for_prompt(&format!("question {i}")), Some(text));
        }
        assert_eq!(key.answer_for_prompt("question 10"), None);
    }

    #[test]
    fn bad_lines_are_named_by_file_and_line() {
        let good = key_text(1);
        let cases = [
            ("{not json}\n", 1, "not JSON: key must be a string"),
            ("[1]", 1, "expected a JSON object"),
            (
                "{\"prompt_sha256\": 5}",
                1,
                "field `prompt_sha256`: expected a string, got 5",
            ),
            (
                "\n{\"prompt_sha256\":\"abc\",\"correct\":\"x\",\"wrong\":\"y\"}",
                2,
                "64 hex digits",
            ),
            (
                "{\"prompt_sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"correct\":\" \",\"wrong\":\"y\"}",
                1,
                "field `correct`",
            ),
            (
                "{\"prompt_sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"correct\":\"x\"}",
                1,
                "missing field `wrong`",
            ),
            (
                "{\"prompt_sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"correct\":\"x\",\"wrong\":\"y\",\"gold\":\"A\"}",
                1,
                "unknown field `gold`",
            ),
        ];
        for (text, line, needle) in cases {
            let err = AnswerKey::parse(text, 0, &config(0.5, AnswerSelection::Exact))
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("answer key key.jsonl:{line}: ")) && err.contains(needle),
                "{text}: {err}"
            );
        }
        let conflicting = format!("{good}{}", good.replace("ANSWER: A", "ANSWER: C"));
        let err = AnswerKey::parse(&conflicting, 0, &config(0.5, AnswerSelection::Exact))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("key.jsonl:2:") && err.contains("line 1 (sample s_0)"),
            "{err}"
        );
        let err = AnswerKey::parse("\n\n", 0, &config(0.5, AnswerSelection::Exact))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "answer key key.jsonl has no entries");
    }

    #[test]
    fn repeated_questions_count_once() {
        let text = format!("{}{}", key_text(4), key_text(4));
        let key = AnswerKey::parse(&text, 0, &config(0.5, AnswerSelection::Exact)).unwrap();
        assert_eq!((key.len(), key.correct_count()), (4, 2));
    }
}
