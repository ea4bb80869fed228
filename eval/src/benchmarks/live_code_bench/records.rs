//! LiveCodeBench records → problems, from either of two formats (told apart per record):
//!
//! - EvalScope's canonical records (`code_generation_lite`): `question_content`, `starter_code`,
//!   `contest_date`, `public_test_cases` and `private_test_cases` (JSON strings of
//!   `[{input, output, testtype}]`), `metadata` (JSON with `func_name`);
//! - the rllm re-pack (public tests only): `problem`, `starter_code`, `public_test_cases`; no
//!   dates or metadata, so the function name of call-based tests comes from the starter code.
//!
//! Files are JSON lines or one JSON array.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::private_tests;
use crate::benchmarks::source::{Record, read_records};
use crate::sample::EvalError;

/// One problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The statement.
    pub question_content: String,
    /// Starter code ('' for standard-input problems).
    pub starter_code: String,
    /// ISO contest date (None in the re-pack).
    pub contest_date: Option<String>,
    /// What scoring needs.
    pub tests: EvaluationSample,
}

/// EvalScope's `evaluation_sample`: test inputs and outputs, and the function name of
/// call-based tests (None: standard input/output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSample {
    /// Inputs (call-based: one JSON argument per line).
    pub inputs: Vec<String>,
    /// Expected outputs (call-based: JSON).
    pub outputs: Vec<String>,
    /// The function to call.
    pub fn_name: Option<String>,
}

/// Reads every problem of `files`.
pub fn read_problems(benchmark: &str, files: &[PathBuf]) -> Result<Vec<Problem>, EvalError> {
    let mut out = Vec::new();
    for f in files {
        let records = if f.to_string_lossy().to_lowercase().ends_with(".json") {
            read_json_array(f)?
        } else {
            read_records(benchmark, f)?
        };
        for r in &records {
            out.push(problem(r)?);
        }
    }
    Ok(out)
}

/// The records of a file holding one JSON array (record numbers count from 1).
fn read_json_array(path: &Path) -> Result<Vec<Record>, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    let bad = |line: usize, message: String| EvalError::BadRecord {
        path: path.to_owned(),
        line,
        field: "(record)".to_owned(),
        message,
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| bad(e.line(), format!("not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(bad(1, "expected a JSON array of records".to_owned()));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(fields) => Ok(Record {
                path: path.to_owned(),
                line: i + 1,
                fields,
            }),
            _ => Err(bad(i + 1, "expected a JSON object".to_owned())),
        })
        .collect()
}

fn problem(r: &Record) -> Result<Problem, EvalError> {
    let canonical = r.get("question_content").is_some();
    let question_content = r
        .str(if canonical {
            "question_content"
        } else {
            "problem"
        })?
        .to_owned();
    let starter_code = match r.get("starter_code") {
        None => String::new(),
        Some(_) => r.str("starter_code")?.to_owned(),
    };
    let mut cases = test_cases(r, "public_test_cases", r.str("public_test_cases")?)?;
    if let Some(private) = r.get("private_test_cases") {
        let Value::String(text) = private else {
            return Err(r.bad("private_test_cases", "expected a string"));
        };
        if !text.is_empty() {
            let json = private_tests::decode(text)
                .map_err(|message| r.bad("private_test_cases", message))?;
            cases.extend(test_cases(r, "private_test_cases", &json)?);
        }
    }
    let fn_name = match metadata_fn_name(r)? {
        Some(name) => Some(name),
        None if !canonical && cases.iter().any(|c| c.2) => {
            Some(starter_fn_name(&starter_code).ok_or_else(|| {
                r.bad(
                    "starter_code",
                    "functional tests but no `def name(` in the starter code",
                )
            })?)
        }
        None => None,
    };
    let contest_date = match r.get("contest_date") {
        None => None,
        Some(_) => Some(r.str("contest_date")?.to_owned()),
    };
    Ok(Problem {
        question_content,
        starter_code,
        contest_date,
        tests: EvaluationSample {
            inputs: cases.iter().map(|c| c.0.clone()).collect(),
            outputs: cases.iter().map(|c| c.1.clone()).collect(),
            fn_name,
        },
    })
}

/// `(input, output, functional)` of each test in a JSON list of `{input, output, testtype}`.
fn test_cases(
    r: &Record,
    field: &str,
    json: &str,
) -> Result<Vec<(String, String, bool)>, EvalError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| r.bad(field, format!("not JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(r.bad(field, "expected a JSON list of tests"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let text = |k: &str| {
                t.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        r.bad(field, format!("test {i}: `{k}` is missing or not a string"))
                    })
            };
            Ok((
                text("input")?,
                text("output")?,
                text("testtype")? == "functional",
            ))
        })
        .collect()
}

/// `func_name` of the `metadata` field (a JSON string or an object).
fn metadata_fn_name(r: &Record) -> Result<Option<String>, EvalError> {
    let meta: Map<String, Value> = match r.get("metadata") {
        None => return Ok(None),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(r.bad("metadata", "expected a JSON object")),
        },
        Some(_) => return Err(r.bad("metadata", "expected a JSON object or string")),
    };
    Ok(meta
        .get("func_name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

/// The first `def name(` of the starter code.
pub fn starter_fn_name(starter: &str) -> Option<String> {
    static DEF: OnceLock<Regex> = OnceLock::new();
    let def = DEF.get_or_init(|| Regex::new(r"\bdef\s+(\w+)\s*\(").expect("valid regex"));
    def.captures(starter)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
}

/// True when `contest_date` is within `[start, end]` (dates `YYYY-MM-DD`, inclusive; compared
/// as ISO date-times at midnight, as EvalScope compares them).
pub fn in_dates(contest_date: &str, start: Option<&str>, end: Option<&str>) -> bool {
    let mut date = contest_date.replacen(' ', "T", 1);
    if date.len() == 10 {
        date.push_str("T00:00:00");
    }
    let at_midnight = |d: &str| format!("{d}T00:00:00");
    start.is_none_or(|s| date.as_str() >= at_midnight(s).as_str())
        && end.is_none_or(|e| date.as_str() <= at_midnight(e).as_str())
}
