//! One trace line, checked field by field.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::BLOCK_TOKENS;
use crate::dataset::LineError;

/// One request of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceEntry {
    /// Arrival time, milliseconds (any origin; the first line's is the replay's 0).
    pub timestamp: f64,
    /// Prompt tokens.
    pub input_length: u32,
    /// Completion tokens asked for (`max_tokens`).
    pub output_length: u32,
    /// One id per block of [`BLOCK_TOKENS`] prompt tokens (the last block may be shorter);
    /// equal ids are equal blocks. Empty: a prompt shared with no other request.
    #[serde(default)]
    pub hash_ids: Vec<u64>,
}

impl TraceEntry {
    /// The blocks of the prompt: (hash id, tokens), in order; empty when `hash_ids` is.
    pub fn blocks(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        let n = self.hash_ids.len();
        self.hash_ids.iter().enumerate().map(move |(i, h)| {
            let len = if i + 1 < n {
                BLOCK_TOKENS
            } else {
                self.input_length - BLOCK_TOKENS * (n as u32 - 1)
            };
            (*h, len)
        })
    }
}

fn err(path: &Path, line: usize, field: Option<&str>, message: String) -> LineError {
    LineError {
        path: path.to_path_buf(),
        line,
        field: field.map(String::from),
        message,
    }
}

/// Line `line` (1-based) of trace file `path`: an object with a number `timestamp` (ms, ≥ 0),
/// integers `input_length` ≥ 1 and `output_length` ≥ 1, and `hash_ids`, a list of
/// non-negative integers, one per block of [`BLOCK_TOKENS`] tokens
/// (`ceil(input_length / 512)` of them) or none. Anything else is refused, naming the field.
pub fn parse_line(path: &Path, line: usize, text: &str) -> Result<TraceEntry, LineError> {
    let e = |field: Option<&str>, m: String| err(path, line, field, m);
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|x| e(None, format!("not JSON: {x}")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(e(None, "not a JSON object".into()));
    };
    for k in map.keys() {
        if !["timestamp", "input_length", "output_length", "hash_ids"].contains(&k.as_str()) {
            return Err(e(Some(k), "unknown field (a Mooncake trace line has timestamp, input_length, output_length, hash_ids)".into()));
        }
    }
    let timestamp = match map.get("timestamp") {
        None => return Err(e(Some("timestamp"), "missing".into())),
        Some(t) => t
            .as_f64()
            .filter(|t| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| {
                e(
                    Some("timestamp"),
                    format!("must be milliseconds ≥ 0, got {t}"),
                )
            })?,
    };
    let count = |k: &str| -> Result<u32, LineError> {
        match map.get(k) {
            None => Err(e(Some(k), "missing".into())),
            Some(v) => v
                .as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    e(
                        Some(k),
                        format!("must be a whole number of tokens ≥ 1, got {v}"),
                    )
                }),
        }
    };
    let input_length = count("input_length")?;
    let output_length = count("output_length")?;
    let hash_ids = match map.get("hash_ids") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, h)| {
                h.as_u64().ok_or_else(|| {
                    e(
                        Some(&format!("hash_ids[{i}]")),
                        format!("must be an integer ≥ 0, got {h}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(e(
                Some("hash_ids"),
                format!("must be a list of integers, got {other}"),
            ));
        }
    };
    let blocks = input_length.div_ceil(BLOCK_TOKENS) as usize;
    if !hash_ids.is_empty() && hash_ids.len() != blocks {
        return Err(e(
            Some("hash_ids"),
            format!(
                "{} ids for input_length {input_length}: one per block of {BLOCK_TOKENS} tokens is {blocks}",
                hash_ids.len()
            ),
        ));
    }
    Ok(TraceEntry {
        timestamp,
        input_length,
        output_length,
        hash_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TraceEntry, String> {
        parse_line(Path::new("t.jsonl"), 7, text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_mooncake_line_parses() {
        let t = parse(r#"{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]}"#)
            .expect("valid");
        assert_eq!(
            (t.timestamp, t.input_length, t.output_length),
            (27482.0, 6955, 52)
        );
        let blocks: Vec<_> = t.blocks().collect();
        assert_eq!(blocks.len(), 14);
        assert_eq!(blocks[0], (46, 512));
        assert_eq!(blocks[13], (59, 6955 - 13 * 512));
        let none =
            parse(r#"{"timestamp": 0, "input_length": 5, "output_length": 1}"#).expect("valid");
        assert!(none.hash_ids.is_empty() && none.blocks().count() == 0);
    }

    #[test]
    fn bad_lines_name_file_line_and_field() {
        let cases = [
            ("{", "t.jsonl:7: not JSON"),
            ("[1]", "t.jsonl:7: not a JSON object"),
            (
                r#"{"input_length": 1, "output_length": 1}"#,
                "t.jsonl:7: field `timestamp`: missing",
            ),
            (
                r#"{"timestamp": -1, "input_length": 1, "output_length": 1}"#,
                "t.jsonl:7: field `timestamp`: must be milliseconds ≥ 0, got -1",
            ),
            (
                r#"{"timestamp": 0, "input_length": 0, "output_length": 1}"#,
                "t.jsonl:7: field `input_length`: must be a whole number of tokens ≥ 1, got 0",
            ),
            (
                r#"{"timestamp": 0, "input_length": 3, "output_length": "9"}"#,
                "t.jsonl:7: field `output_length`: must be a whole number of tokens ≥ 1, got \"9\"",
            ),
            (
                r#"{"timestamp": 0, "input_length": 3, "output_length": 2, "hash_ids": [1, "x"]}"#,
                "t.jsonl:7: field `hash_ids[1]`: must be an integer ≥ 0",
            ),
            (
                r#"{"timestamp": 0, "input_length": 600, "output_length": 2, "hash_ids": [1]}"#,
                "t.jsonl:7: field `hash_ids`: 1 ids for input_length 600: one per block of 512 tokens is 2",
            ),
            (
                r#"{"timestamp": 0, "input_length": 3, "output_length": 2, "session": 1}"#,
                "t.jsonl:7: field `session`: unknown field",
            ),
        ];
        for (line, want) in cases {
            let got = parse(line).expect_err(line);
            assert!(got.starts_with(want), "{line}: {got}");
        }
    }
}
