//! MMLU-Redux 2.0 (`edinburgh-dlp/mmlu-redux-2.0` records as JSONL: `question`, `choices`,
//! `answer` (an index), `error_type`, `correct_answer`, `potential_reason`; the subject from a
//! `subject` field, else the file name). Data CC-BY-4.0, Gema et al., "Are We Done with MMLU?".
//!
//! Gold: the letters EvalScope derives from the annotation (`error_type`):
//! `no_correct_answer` puts `correct_answer` in place of the marked option;
//! `wrong_groundtruth` takes `correct_answer` as the index (or letter); `multiple_correct_answers`
//! splits it on `,` / ` and ` / ` or ` into indexes, letters or option texts; nothing usable means
//! all four letters. Prompt: EvalScope's single-answer chain-of-thought template. Extraction:
//! `parse_answers` (single answer); score: `acc` with `allow_inclusion` (the extracted letter is
//! one of the gold letters).

use serde_json::Value;

use super::mc_samples::{self, Question};
use super::source::{Record, eval_files, read_records, subject_of};
use super::{acc_score, mark_parser, mc_parser, metadata, select_subsets, zero_shot_only};
use crate::mc;
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

const NAME: &str = "mmlu_redux";

/// The 57 subjects, in EvalScope's order.
pub const SUBJECTS: [&str; 57] = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
];

/// MMLU-Redux.
#[derive(Debug, Clone, Copy, Default)]
pub struct MmluRedux;

/// Python's `int(s)` for a decimal string (surrounding whitespace, a sign and `_` between digits
/// allowed).
fn py_int(s: &str) -> Option<i64> {
    let s = mc::py_strip(s);
    let (sign, digits) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    digits
        .replace('_', "")
        .parse::<i64>()
        .ok()
        .map(|v| sign * v)
}

/// `'ABCD'[i]` with Python's negative indexing.
fn letter(i: i64) -> Option<String> {
    let i = if i < 0 { i + 4 } else { i };
    (0..4)
        .contains(&i)
        .then(|| mc::answer_character(i as usize))
}

/// The gold letters and (possibly fixed) options of a record, as EvalScope derives them.
pub fn gold_of(
    error_type: &str,
    answer: i64,
    correct_answer: Option<&str>,
    choices: &mut [String],
) -> Result<(Vec<String>, Option<String>), String> {
    let mut targets: Vec<i64> = vec![answer];
    let mut correct = correct_answer.map(str::to_owned);
    match (error_type, correct_answer.filter(|c| !c.is_empty())) {
        ("no_correct_answer", Some(c)) => {
            let slot = usize::try_from(answer)
                .ok()
                .and_then(|i| choices.get_mut(i))
                .ok_or_else(|| format!("answer {answer} is not an option index"))?;
            *slot = c.to_owned();
        }
        ("wrong_groundtruth", Some(c)) => {
            targets = match py_int(c) {
                Some(i) => vec![i],
                None => {
                    let mut chars = c.chars();
                    match (chars.next(), chars.next()) {
                        (Some(ch), None) => {
                            vec![i64::from(u32::from(ch)) - i64::from(u32::from('A'))]
                        }
                        _ => {
                            return Err(format!(
                                "correct_answer {c:?} is neither an index nor a letter"
                            ));
                        }
                    }
                }
            };
        }
        ("multiple_correct_answers", Some(c)) => {
            let c = c
                .trim_matches(['(', ')'])
                .replace(" and ", ",")
                .replace(" or ", ",");
            let parts: Vec<&str> = c.split(',').collect();
            targets =
                if let Some(ints) = parts.iter().map(|p| py_int(p)).collect::<Option<Vec<_>>>() {
                    ints
                } else if parts.iter().all(|p| p.chars().count() == 1) {
                    parts
                        .iter()
                        .filter_map(|p| p.chars().next())
                        .map(|ch| i64::from(u32::from(ch)) - i64::from(u32::from('A')))
                        .collect()
                } else {
                    parts
                        .iter()
                        .filter_map(|p| choices.iter().position(|o| o == p))
                        .map(|i| i as i64)
                        .collect()
                };
            correct = Some(c);
        }
        _ => {}
    }
    if targets.is_empty() {
        return Ok((["A", "B", "C", "D"].map(str::to_owned).to_vec(), correct));
    }
    let letters = targets
        .iter()
        .map(|&i| letter(i).ok_or_else(|| format!("gold index {i} is outside A-D")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((letters, correct))
}

fn subject_for(r: &Record) -> Result<String, EvalError> {
    match r.opt_text("subject")? {
        Some(s) => Ok(s),
        None => {
            let stem = subject_of(&r.path, &["_test"]);
            Ok(stem.strip_prefix("mmlu_").unwrap_or(&stem).to_owned())
        }
    }
}

impl Benchmark for MmluRedux {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "MMLU-Redux",
            task_type: "knowledge",
            metrics: vec!["acc"],
            subsets: SUBJECTS.iter().map(|s| (*s).to_owned()).collect(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        let parser = mc_parser(NAME, args)?;
        zero_shot_only(NAME, args)?;
        let all: Vec<String> = SUBJECTS.iter().map(|s| (*s).to_owned()).collect();
        let subsets = select_subsets(NAME, &all, args)?;
        let files = eval_files(
            NAME,
            args,
            &[],
            &[".jsonl"],
            "MMLU-Redux JSONL (subject, question, choices, answer, error_type, correct_answer)",
        )?;
        let mut items = Vec::new();
        for file in &files {
            for r in read_records(NAME, file)? {
                let subject = subject_for(&r)?;
                let question = r.str("question")?.to_owned();
                let mut choices = r.str_list("choices")?;
                let answer = r.int("answer")?;
                let error_type = r.opt_text("error_type")?.unwrap_or_default();
                let correct_answer = r.opt_text("correct_answer")?;
                let (gold, correct) =
                    gold_of(&error_type, answer, correct_answer.as_deref(), &mut choices).map_err(
                        |m| {
                            r.bad(
                                if m.starts_with("answer") {
                                    "answer"
                                } else {
                                    "correct_answer"
                                },
                                m,
                            )
                        },
                    )?;
                let mut meta = metadata([
                    ("error_type", Value::String(error_type)),
                    ("correct_answer", correct.map_or(Value::Null, Value::String)),
                    (
                        "potential_reason",
                        r.get("potential_reason")
                            .cloned()
                            .unwrap_or(Value::String(String::new())),
                    ),
                    (
                        "target",
                        Value::Array(gold.iter().cloned().map(Value::String).collect()),
                    ),
                ]);
                mark_parser(parser, &mut meta);
                items.push((
                    subject,
                    Question {
                        question,
                        choices,
                        gold: gold.concat(),
                        metadata: meta,
                    },
                ));
            }
        }
        mc_samples::zero_shot(NAME, mc::SINGLE_ANSWER_TEMPLATE_COT, &subsets, items, args)
    }

    fn extract(&self, completion: &str, sample: &Sample) -> String {
        mc_samples::extract_single(completion, sample)
    }

    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        acc_score(
            extracted,
            !extracted.is_empty() && sample.gold.contains(extracted),
        )
    }
}
