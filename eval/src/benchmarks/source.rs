//! Reading benchmark records: JSONL and CSV files, folders of them, and typed field access whose
//! errors name the file, the line and the field.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::csv;
use crate::sample::{DatasetArgs, EvalError};

/// One record of a data file.
#[derive(Debug, Clone)]
pub struct Record {
    /// The file.
    pub path: PathBuf,
    /// 1-based line the record starts on.
    pub line: usize,
    /// The fields (CSV fields are strings).
    pub fields: Map<String, Value>,
}

impl Record {
    /// A `BadRecord` error about `field` of this record.
    pub fn bad(&self, field: &str, message: impl Into<String>) -> EvalError {
        EvalError::BadRecord {
            path: self.path.clone(),
            line: self.line,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The raw value of a field, `None` when absent or null.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).filter(|v| !v.is_null())
    }

    /// A required string field.
    pub fn str(&self, field: &str) -> Result<&str, EvalError> {
        match self.get(field) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.bad(field, format!("expected a string, got {}", kind(other)))),
            None => Err(self.bad(field, "missing")),
        }
    }

    /// A required field holding a string or a number, as text (`70` → `"70"`).
    pub fn text(&self, field: &str) -> Result<String, EvalError> {
        self.opt_text(field)?
            .ok_or_else(|| self.bad(field, "missing"))
    }

    /// An optional field holding a string or a number, as text.
    pub fn opt_text(&self, field: &str) -> Result<Option<String>, EvalError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.bad(
                field,
                format!("expected a string or a number, got {}", kind(other)),
            )),
        }
    }

    /// A required list of strings (numbers are accepted as text).
    pub fn str_list(&self, field: &str) -> Result<Vec<String>, EvalError> {
        let Some(value) = self.get(field) else {
            return Err(self.bad(field, "missing"));
        };
        let Value::Array(items) = value else {
            return Err(self.bad(field, format!("expected a list, got {}", kind(value))));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(self.bad(
                    field,
                    format!("item {i}: expected a string, got {}", kind(other)),
                )),
            })
            .collect()
    }

    /// A required integer (a JSON integer or a string holding one).
    pub fn int(&self, field: &str) -> Result<i64, EvalError> {
        match self.get(field) {
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| self.bad(field, format!("expected an integer, got {n}"))),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| self.bad(field, format!("expected an integer, got {s:?}"))),
            Some(other) => {
                Err(self.bad(field, format!("expected an integer, got {}", kind(other))))
            }
            None => Err(self.bad(field, "missing")),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads every record of a `.jsonl`, `.jsonl.gz` or `.csv` file (a CSV's first row names the
/// fields).
pub fn read_records(benchmark: &str, path: &Path) -> Result<Vec<Record>, EvalError> {
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".jsonl.gz") {
        return read_jsonl(path, &read_gzip(path)?);
    }
    if name.ends_with(".gz") || name.ends_with(".zip") || name.ends_with(".parquet") {
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!(
                "{}: compressed or binary data is not read; decompress it to JSONL first",
                path.display()
            ),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_owned(),
        source,
    })?;
    if name.ends_with(".csv") {
        read_csv(path, &text)
    } else {
        read_jsonl(path, &text)
    }
}

/// The text of a gzip-compressed UTF-8 file.
pub fn read_gzip(path: &Path) -> Result<String, EvalError> {
    use std::io::Read;
    let io = |source| EvalError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_string(&mut text)
        .map_err(io)?;
    Ok(text)
}

fn read_jsonl(path: &Path, text: &str) -> Result<Vec<Record>, EvalError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |message: String| EvalError::BadRecord {
            path: path.to_owned(),
            line,
            field: "(record)".to_owned(),
            message,
        };
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(fields)) => out.push(Record {
                path: path.to_owned(),
                line,
                fields,
            }),
            Ok(_) => return Err(bad("expected a JSON object".to_owned())),
            Err(e) => return Err(bad(format!("not JSON: {e}"))),
        }
    }
    Ok(out)
}

fn read_csv(path: &Path, text: &str) -> Result<Vec<Record>, EvalError> {
    let rows = csv::parse(text).map_err(|e| EvalError::BadRecord {
        path: path.to_owned(),
        line: e.line,
        field: "(record)".to_owned(),
        message: e.message,
    })?;
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return Ok(Vec::new());
    };
    rows.map(|row| {
        if row.fields.len() > header.fields.len() {
            return Err(EvalError::BadRecord {
                path: path.to_owned(),
                line: row.line,
                field: "(record)".to_owned(),
                message: format!(
                    "{} fields, the header names {}",
                    row.fields.len(),
                    header.fields.len()
                ),
            });
        }
        let fields = header
            .fields
            .iter()
            .zip(row.fields)
            .map(|(k, v)| (k.clone(), Value::String(v)))
            .collect();
        Ok(Record {
            path: path.to_owned(),
            line: row.line,
            fields,
        })
    })
    .collect()
}

/// The data files `path` stands for: the file itself; in a folder, the first of `preferred`
/// (a file, or a folder whose files with one of `extensions` are taken) that exists, else every
/// file of the folder with one of `extensions`, sorted by name.
pub fn resolve(
    benchmark: &str,
    path: &Path,
    preferred: &[&str],
    extensions: &[&str],
) -> Result<Vec<PathBuf>, EvalError> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    if !path.is_dir() {
        return Err(EvalError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        });
    }
    for name in preferred {
        let candidate = path.join(name);
        if candidate.is_file() {
            return Ok(vec![candidate]);
        }
        let gz = path.join(format!("{name}.gz"));
        if name.ends_with(".jsonl") && gz.is_file() {
            return Ok(vec![gz]);
        }
        if candidate.is_dir() {
            let files = files_with(&candidate, extensions)?;
            if !files.is_empty() {
                return Ok(files);
            }
        }
    }
    let files = files_with(path, extensions)?;
    if files.is_empty() {
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!(
                "{}: no data file ({}) in the folder",
                path.display(),
                extensions.join(", ")
            ),
        });
    }
    Ok(files)
}

fn files_with(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, EvalError> {
    let io = |source| EvalError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        // a gzipped JSON-lines file counts wherever a plain one does
        let gz_jsonl = name.ends_with(".jsonl.gz") && extensions.contains(&".jsonl");
        if p.is_file() && (gz_jsonl || extensions.iter().any(|e| name.ends_with(e))) {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// The evaluation data files of a run: `args.local_path` resolved as in [`resolve`].
pub fn eval_files(
    benchmark: &str,
    args: &DatasetArgs,
    preferred: &[&str],
    extensions: &[&str],
    format: &str,
) -> Result<Vec<PathBuf>, EvalError> {
    let Some(path) = &args.local_path else {
        return Err(EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("`local_path` is required: a file or folder of {format}"),
        });
    };
    resolve(benchmark, path, preferred, extensions)
}

/// Where a benchmark's few-shot split lies in a local copy of the dataset.
#[derive(Debug, Clone, Copy)]
pub struct FewShotSplit<'a> {
    /// The split's name (EvalScope's `train_split`: `train`, `validation`, `dev`).
    pub split: &'a str,
    /// The file or folder names the split may have, the usual one first (it is the one an
    /// error names); a `.jsonl` name also matches its `.jsonl.gz`.
    pub names: &'a [&'a str],
    /// Extensions of the data files taken from a folder.
    pub extensions: &'a [&'a str],
}

/// The few-shot data files of a run that asks for `shots` examples: `extra_params.few_shot_path`
/// (a file or folder), else the first of `split.names` in the folder of `local_path` (itself
/// when a folder, else the folder holding it) or beside that folder, where a local copy of a
/// dataset keeps its splits (`test.jsonl` beside `train.jsonl`, C-Eval's `val/` beside `dev/`).
/// None found: an error naming the file expected and the ways out (`few_shot_path`, or
/// `few_shot_num: 0` for a zero-shot run).
pub fn few_shot_files(
    benchmark: &str,
    args: &DatasetArgs,
    shots: usize,
    split: FewShotSplit<'_>,
) -> Result<Vec<PathBuf>, EvalError> {
    if let Some(value) = args.extra_params.get("few_shot_path") {
        let Some(path) = value.as_str() else {
            return Err(EvalError::BadArgs {
                benchmark: benchmark.to_owned(),
                message: format!("`extra_params.few_shot_path` must be a path string, got {value}"),
            });
        };
        return resolve(benchmark, Path::new(path), split.names, split.extensions);
    }
    let home = args.local_path.as_deref().map(|local| {
        if local.is_dir() {
            local.to_owned()
        } else {
            local.parent().map(Path::to_owned).unwrap_or_default()
        }
    });
    let mut dirs = Vec::new();
    if let Some(home) = &home {
        dirs.push(home.clone());
        if let Some(parent) = home.parent().filter(|p| !p.as_os_str().is_empty()) {
            dirs.push(parent.to_owned());
        }
    }
    for dir in &dirs {
        for name in split.names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(vec![candidate]);
            }
            let gz = dir.join(format!("{name}.gz"));
            if name.ends_with(".jsonl") && gz.is_file() {
                return Ok(vec![gz]);
            }
            if candidate.is_dir() {
                let files = files_with(&candidate, split.extensions)?;
                if !files.is_empty() {
                    return Ok(files);
                }
            }
        }
    }
    let usual = split.names.first().copied().unwrap_or(split.split);
    let expected = match &home {
        Some(home) => home.join(usual).display().to_string(),
        None => format!("{usual} beside `local_path`"),
    };
    let others = if split.names.len() > 1 {
        format!(" (or {})", split.names[1..].join(", "))
    } else {
        String::new()
    };
    Err(EvalError::BadArgs {
        benchmark: benchmark.to_owned(),
        message: format!(
            "{} takes its examples from the {} split, which is missing: expected {expected}{others}; put the split there or name it with `extra_params.few_shot_path`, or set `few_shot_num: 0` in dataset_args to run zero-shot",
            super::few_shot_origin(args, shots),
            split.split,
        ),
    })
}

/// The evaluation files of `eval_files` less the few-shot split's own files, which a folder's
/// "every data file" fallback would otherwise take for evaluation data (a `local_path` naming
/// a file is kept as given).
pub fn without_split(
    args: &DatasetArgs,
    files: Vec<PathBuf>,
    split: FewShotSplit<'_>,
) -> Vec<PathBuf> {
    if !args.local_path.as_deref().is_some_and(Path::is_dir) {
        return files;
    }
    files
        .into_iter()
        .filter(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            !split
                .names
                .iter()
                .any(|s| name == *s || name == format!("{s}.gz"))
        })
        .collect()
}

/// Every record of the given files, in file order.
pub fn read_all(benchmark: &str, files: &[PathBuf]) -> Result<Vec<Record>, EvalError> {
    let mut out = Vec::new();
    for f in files {
        out.extend(read_records(benchmark, f)?);
    }
    Ok(out)
}

/// The file name without extension and without a `_<split>` suffix (`law_val.csv` → `law`).
pub fn subject_of(path: &Path, split_suffixes: &[&str]) -> String {
    let stem = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default().to_owned();
    for suffix in split_suffixes {
        if let Some(s) = stem.strip_suffix(suffix) {
            return s.to_owned();
        }
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_gzipped_json_lines_resolves() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.jsonl.gz"), b"x").unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        let preferred = resolve("b", dir.path(), &["test.jsonl"], &[".jsonl"]).unwrap();
        assert_eq!(preferred, vec![dir.path().join("test.jsonl.gz")]);
        let any = resolve("b", dir.path(), &[], &[".jsonl"]).unwrap();
        assert_eq!(any, vec![dir.path().join("test.jsonl.gz")]);
        assert!(resolve("b", dir.path(), &[], &[".csv"]).is_err());
    }
}
