//! What `general_mcq` and `general_qa` (EvalScope's "bring your own benchmark") share: EvalScope
//! 1.14.1's `LocalDataLoader` file lookup, its multiple-choice answer parser
//! ([`parse`]), and the BLEU ([`bleu`]) and ROUGE ([`rouge`]) scores of `general_qa`, with the
//! jieba segmentation ([`jieba`]) they apply to Chinese text.

pub mod bleu;
pub mod jieba;
pub mod parse;
pub mod rouge;

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::source::{Record, read_records};
use crate::sample::{DatasetArgs, EvalError};

/// The extensions EvalScope's `LocalDataLoader` tries, in its order.
const EXTENSIONS: [&str; 4] = [".jsonl", ".csv", ".tsv", ".parquet"];

/// `local_path`, which these benchmarks need (EvalScope's `dataset_id` of a custom dataset).
pub(crate) fn local_path<'a>(
    benchmark: &str,
    args: &'a DatasetArgs,
) -> Result<&'a Path, EvalError> {
    args.local_path.as_deref().ok_or_else(|| EvalError::BadArgs {
        benchmark: benchmark.to_owned(),
        message: "needs `local_path`: a folder of `<subset>_<split>.jsonl` / `.csv` files (or one file)"
            .to_owned(),
    })
}

/// The subsets of a run: `subset_list`, else EvalScope's `["default"]` (file names decide which
/// exist, so any name is accepted).
pub(crate) fn subsets(args: &DatasetArgs) -> Vec<String> {
    if args.subset_list.is_empty() {
        vec!["default".to_owned()]
    } else {
        let mut out: Vec<String> = Vec::new();
        for s in &args.subset_list {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    }
}

/// EvalScope 1.14.1 `LocalDataLoader.load`: for each extension in turn (`.jsonl`, `.csv`,
/// `.tsv`, `.parquet`), `path` itself when it is a file with that extension, else
/// `<path>/<subset>_<split><ext>` or `<path>/<subset><ext>` (the first that exists); the first
/// such file with records wins. `limit` keeps the first N records. A TSV or Parquet file is
/// reported as unsupported rather than read.
pub(crate) fn load_split(
    benchmark: &str,
    path: &Path,
    subset: &str,
    split: &str,
    limit: Option<usize>,
) -> Result<Vec<Record>, EvalError> {
    let lossy = path.to_string_lossy();
    for ext in EXTENSIONS {
        let candidates: Vec<PathBuf> = if path.is_file() && lossy.ends_with(ext) {
            vec![path.to_owned()]
        } else {
            vec![
                path.join(format!("{subset}_{split}{ext}")),
                path.join(format!("{subset}{ext}")),
            ]
        };
        let Some(file) = candidates.into_iter().find(|c| c.exists()) else {
            continue;
        };
        if matches!(ext, ".tsv" | ".parquet") {
            return Err(EvalError::BadArgs {
                benchmark: benchmark.to_owned(),
                message: format!(
                    "{}: {ext} files are not read here; convert it to JSONL or CSV",
                    file.display()
                ),
            });
        }
        let mut records = read_records(benchmark, &file)?;
        if records.is_empty() {
            continue;
        }
        if let Some(limit) = limit {
            records.truncate(limit);
        }
        return Ok(records);
    }
    if path.is_dir() {
        let expected: Vec<String> = EXTENSIONS
            .iter()
            .map(|ext| {
                path.join(format!("{subset}_{split}{ext}"))
                    .display()
                    .to_string()
            })
            .collect();
        let mut available: Vec<String> = std::fs::read_dir(path)
            .map_err(|source| EvalError::Io {
                path: path.to_owned(),
                source,
            })?
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| EXTENSIONS.iter().any(|ext| n.ends_with(ext)))
            .collect();
        available.sort();
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!(
                "no dataset file found for subset {subset:?}, split {split:?} in {}; expected one of: {} (or `{subset}<ext>`); available: {}",
                path.display(),
                expected.join(", "),
                if available.is_empty() {
                    "(none)".to_owned()
                } else {
                    available.join(", ")
                }
            ),
        });
    }
    if path.is_file() {
        if EXTENSIONS.iter().any(|ext| lossy.ends_with(ext)) {
            // a supported file without records: EvalScope loads an empty dataset
            return Ok(Vec::new());
        }
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!(
                "{}: unsupported file format; supported: {}",
                path.display(),
                EXTENSIONS.join(", ")
            ),
        });
    }
    Err(EvalError::BadArgs {
        benchmark: benchmark.to_owned(),
        message: format!("dataset path does not exist: {}", path.display()),
    })
}

/// Python's `str(value)` of a scalar record field (a string, a number or a boolean).
pub(crate) fn py_str(r: &Record, field: &str, value: &Value) -> Result<String, EvalError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(true) => Ok("True".to_owned()),
        Value::Bool(false) => Ok("False".to_owned()),
        Value::Null => Err(r.bad(field, "is null")),
        Value::Array(_) | Value::Object(_) => {
            Err(r.bad(field, "expected text, got a list or an object"))
        }
    }
}

/// EvalScope's `Target`: the answers, each stripped, empty ones dropped, duplicates removed
/// (first kept). A string is one answer; a list of strings several.
pub(crate) fn target_values(r: &Record, field: &str) -> Result<Vec<String>, EvalError> {
    let raw: Vec<String> = match r.get(field) {
        None => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(r.bad(field, format!("item {i}: expected a string, got {other}"))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(r.bad(
                field,
                format!("expected a string or a list of strings, got {other}"),
            ));
        }
    };
    let mut out: Vec<String> = Vec::new();
    for v in raw {
        let v = crate::mc::py_strip(&v).to_owned();
        if !v.is_empty() && !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// EvalScope's `is_contains_chinese`: any character in U+4E00..=U+9FA5.
pub fn contains_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fa5}').contains(&c))
}
