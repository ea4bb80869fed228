//! GPQA-Diamond (the official CSV: `Question`, `Correct Answer`, `Incorrect Answer 1..3`,
//! `Record ID`, `High-level domain`, `Subdomain`, ...; JSONL with the same keys also reads).
//!
//! Options: `[Incorrect 1, Incorrect 2, Incorrect 3, Correct]`, each cleaned as EvalScope v1.10.0
//! cleans them (strip; ` [title]` → `. `; `[...]` removed; double spaces halved), then shuffled by
//! Python's `random.shuffle` on one `random.Random(seed)` (default seed 42) taken record after
//! record in file order, which is EvalScope v1.10.0's process RNG after `seed_everything`. Gold:
//! the letter the correct answer lands on. `extra_params.shuffle`: `"seeded"` (default),
//! `"per_question"` (EvalScope HEAD: options only stripped, `random.Random(first 8 bytes of
//! sha256(question.strip()), big-endian)`), or `"none"`.
//!
//! Extraction: `parse_answers` (single answer); score: exact letter match.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::mc_samples::{self, Question};
use super::py_random::PyRandom;
use super::sha256;
use super::source::{Record, eval_files, read_all};
use super::{
    acc_score, exact_match, mark_parser, mc_parser, metadata, select_subsets, zero_shot_only,
};
use crate::mc::{self, py_strip};
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "gpqa_diamond";
const SUBSET: &str = "default";

/// EvalScope's default seed.
pub const DEFAULT_SEED: u64 = 42;

/// How options are shuffled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shuffle {
    /// EvalScope v1.10.0: one RNG seeded once, records in file order.
    Seeded(u64),
    /// EvalScope HEAD: an RNG per question, seeded from its SHA-256.
    PerQuestion,
    /// Options in dataset order (correct answer last).
    None,
}

/// GPQA-Diamond.
#[derive(Debug, Clone, Copy, Default)]
pub struct GpqaDiamond;

static BRACKETED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[.*?\]").expect("a constant pattern that compiles"));

/// EvalScope v1.10.0's option cleaning (`None` → `" "`).
pub fn clean_option(text: Option<&str>) -> String {
    let Some(text) = text else {
        return " ".to_owned();
    };
    let text = py_strip(text).replace(" [title]", ". ");
    BRACKETED.replace_all(&text, "").replace("  ", " ")
}

/// The options of a record in shuffled order and the index of the correct one.
///
/// `incorrect` are the three incorrect answers, `question` is used by [`Shuffle::PerQuestion`].
pub fn shuffled_options(
    question: &str,
    correct: Option<&str>,
    incorrect: [Option<&str>; 3],
    shuffle: Shuffle,
    rng: &mut PyRandom,
) -> (Vec<String>, usize) {
    let head = shuffle == Shuffle::PerQuestion;
    let clean = |t: Option<&str>| {
        if head {
            t.map_or_else(|| " ".to_owned(), |t| py_strip(t).to_owned())
        } else {
            clean_option(t)
        }
    };
    let mut options: Vec<String> = incorrect.iter().map(|t| clean(*t)).collect();
    let correct = clean(correct);
    options.push(correct.clone());
    match shuffle {
        Shuffle::Seeded(_) => rng.shuffle(&mut options),
        Shuffle::PerQuestion => {
            let digest = sha256::digest(py_strip(question).as_bytes());
            let mut seed = [0u8; 8];
            seed.copy_from_slice(&digest[..8]);
            PyRandom::new(u64::from_be_bytes(seed)).shuffle(&mut options);
        }
        Shuffle::None => {}
    }
    let index = options.iter().position(|o| *o == correct).unwrap_or(3);
    (options, index)
}

fn shuffle_of(args: &DatasetArgs) -> Result<Shuffle, EvalError> {
    let seed = args.seed.unwrap_or(DEFAULT_SEED);
    match args.extra_params.get("shuffle") {
        None | Some(Value::Null) => Ok(Shuffle::Seeded(seed)),
        Some(Value::String(s)) if s == "seeded" => Ok(Shuffle::Seeded(seed)),
        Some(Value::String(s)) if s == "per_question" => Ok(Shuffle::PerQuestion),
        Some(Value::String(s)) if s == "none" => Ok(Shuffle::None),
        Some(other) => Err(EvalError::BadArgs {
            benchmark: NAME.to_owned(),
            message: format!(
                "`extra_params.shuffle` must be \"seeded\", \"per_question\" or \"none\", got {other}"
            ),
        }),
    }
}

fn opt_str<'a>(r: &'a Record, field: &str) -> Result<Option<&'a str>, EvalError> {
    match r.get(field) {
        None => {
            if r.fields.contains_key(field) {
                Ok(None)
            } else {
                Err(r.bad(field, "missing"))
            }
        }
        Some(_) => r.str(field).map(Some),
    }
}

impl Benchmark for GpqaDiamond {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "GPQA-Diamond",
            task_type: "knowledge",
            metrics: vec!["acc"],
            subsets: vec![SUBSET.to_owned()],
            few_shot_num: 0,
            eval_split: "train",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let parser = mc_parser(NAME, args)?;
        zero_shot_only(NAME, args)?;
        let subsets = select_subsets(NAME, &[SUBSET.to_owned()], args)?;
        let shuffle = shuffle_of(args)?;
        let files = eval_files(
            NAME,
            args,
            &["gpqa_diamond.csv"],
            &[".csv", ".jsonl"],
            "the official GPQA CSV (Question, Correct Answer, Incorrect Answer 1..3)",
        )?;
        let mut rng = PyRandom::new(match shuffle {
            Shuffle::Seeded(seed) => seed,
            _ => DEFAULT_SEED,
        });
        let mut out = Vec::new();
        if subsets.is_empty() {
            return Ok(out);
        }
        for (index, r) in read_all(NAME, &files)?.iter().enumerate() {
            if args.limit.is_some_and(|l| index >= l) {
                break;
            }
            let question = r.str("Question")?;
            let correct = opt_str(r, "Correct Answer")?;
            let incorrect = [
                opt_str(r, "Incorrect Answer 1")?,
                opt_str(r, "Incorrect Answer 2")?,
                opt_str(r, "Incorrect Answer 3")?,
            ];
            let (choices, gold) = shuffled_options(question, correct, incorrect, shuffle, &mut rng);
            let mut meta = metadata([
                (
                    "correct_answer",
                    correct.map_or(Value::Null, |c| Value::String(c.to_owned())),
                ),
                (
                    "incorrect_answers",
                    Value::Array(
                        incorrect
                            .iter()
                            .map(|t| t.map_or(Value::Null, |t| Value::String(t.to_owned())))
                            .collect(),
                    ),
                ),
            ]);
            mark_parser(parser, &mut meta);
            for (key, field) in [
                ("record_id", "Record ID"),
                ("high_level_domain", "High-level domain"),
                ("subdomain", "Subdomain"),
            ] {
                if let Some(v) = r.get(field) {
                    meta.insert(key.to_owned(), v.clone());
                }
            }
            let q = Question {
                question: question.to_owned(),
                choices,
                gold: mc::answer_character(gold),
                metadata: meta,
            };
            out.push(mc_samples::sample(
                NAME,
                mc::SINGLE_ANSWER_TEMPLATE_COT,
                SUBSET.to_owned(),
                index,
                q,
                args,
            )?);
        }
        Ok(out)
    }

    fn extract(&self, completion: &str, sample: &Sample) -> String {
        mc_samples::extract_single(completion, sample)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(extracted, exact_match(extracted, &sample.gold))
    }
}
