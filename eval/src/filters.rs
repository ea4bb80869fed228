//! Completion filters applied before answer extraction, named and ordered as EvalScope (and
//! lm-eval) name them: `remove_until`, `regex`, `remove_whitespace`, `take_first`,
//! `majority_vote`.
//!
//! The usual one is `{"remove_until": "</think>"}`: a reasoning model that writes its thinking
//! inline in the content is scored on what follows the first `</think>` only.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use super::mc::is_py_space;
use super::sample::EvalError;

/// EvalScope's default `regex` filter pattern (GSM8K's `#### 42`).
pub const DEFAULT_REGEX: &str = r"#### (\-?[0-9\.\,]+)";

/// EvalScope's default `regex` filter fallback.
pub const DEFAULT_FALLBACK: &str = "[invalid]";

/// One filter.
#[derive(Debug, Clone)]
pub enum Filter {
    /// Everything after the first occurrence of the delimiter; the text unchanged if absent.
    RemoveUntil {
        /// The delimiter, e.g. `</think>`.
        delimiter: String,
    },
    /// Python `re.findall`, element `group_select` of the matches (negative counts from the
    /// end), the first non-empty group of a multi-group match, stripped; `fallback` if none.
    Regex {
        /// The compiled pattern.
        regex: Regex,
        /// Which match to keep.
        group_select: i64,
        /// The result when nothing matches.
        fallback: String,
    },
    /// Leading whitespace removed.
    RemoveWhitespace,
    /// The first of several responses (one response: unchanged).
    TakeFirst,
    /// The most frequent of several responses (one response: unchanged).
    MajorityVote,
}

/// The ordered filters of a benchmark run.
#[derive(Debug, Clone, Default)]
pub struct FilterChain {
    filters: Vec<Filter>,
}

impl FilterChain {
    /// Parses `DatasetArgs::filters`: an ordered map from filter name to its argument.
    ///
    /// `remove_until` takes the delimiter (or `{"delimiter": ...}`); `regex` takes a pattern or
    /// `{"regex_pattern", "group_select", "fallback"}`; the others take anything (`null`, `{}`).
    pub fn from_args(
        benchmark: &str,
        filters: &serde_json::Map<String, Value>,
    ) -> Result<Self, EvalError> {
        let bad = |message: String| EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message,
        };
        let mut out = Vec::with_capacity(filters.len());
        for (name, arg) in filters {
            let filter = match name.as_str() {
                "remove_until" => {
                    let delimiter = match arg {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(o) => o
                            .get("delimiter")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        bad(format!(
                            "filter `remove_until` needs a delimiter string, got {arg}"
                        ))
                    })?;
                    if delimiter.is_empty() {
                        return Err(bad(
                            "filter `remove_until` has an empty delimiter".to_owned()
                        ));
                    }
                    Filter::RemoveUntil { delimiter }
                }
                "regex" | "extract" => {
                    let (pattern, group_select, fallback) = match arg {
                        Value::String(s) => (s.clone(), 0, DEFAULT_FALLBACK.to_owned()),
                        Value::Null => (DEFAULT_REGEX.to_owned(), 0, DEFAULT_FALLBACK.to_owned()),
                        Value::Object(o) => {
                            let pattern = match o.get("regex_pattern") {
                                None | Some(Value::Null) => DEFAULT_REGEX.to_owned(),
                                Some(Value::String(s)) => s.clone(),
                                Some(other) => {
                                    return Err(bad(format!(
                                        "filter `{name}`: `regex_pattern` must be a string, got {other}"
                                    )));
                                }
                            };
                            let group_select = match o.get("group_select") {
                                None | Some(Value::Null) => 0,
                                Some(v) => v.as_i64().ok_or_else(|| {
                                    bad(format!("filter `{name}`: `group_select` must be an integer, got {v}"))
                                })?,
                            };
                            let fallback = match o.get("fallback") {
                                None | Some(Value::Null) => DEFAULT_FALLBACK.to_owned(),
                                Some(Value::String(s)) => s.clone(),
                                Some(other) => {
                                    return Err(bad(format!(
                                        "filter `{name}`: `fallback` must be a string, got {other}"
                                    )));
                                }
                            };
                            (pattern, group_select, fallback)
                        }
                        other => {
                            return Err(bad(format!(
                                "filter `{name}` needs a pattern or an object, got {other}"
                            )));
                        }
                    };
                    let regex = Regex::new(&pattern).map_err(|e| {
                        bad(format!("filter `{name}`: bad pattern {pattern:?}: {e}"))
                    })?;
                    Filter::Regex {
                        regex,
                        group_select,
                        fallback,
                    }
                }
                "remove_whitespace" => Filter::RemoveWhitespace,
                "take_first" => Filter::TakeFirst,
                "majority_vote" => Filter::MajorityVote,
                other => {
                    return Err(bad(format!(
                        "unknown filter {other:?}; known: remove_until, regex, remove_whitespace, take_first, majority_vote"
                    )));
                }
            };
            out.push(filter);
        }
        Ok(Self { filters: out })
    }

    /// A chain of the given filters.
    pub fn new(filters: Vec<Filter>) -> Self {
        Self { filters }
    }

    /// No filters.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// The filters, in order.
    pub fn filters(&self) -> &[Filter] {
        &self.filters
    }

    /// Filters one completion.
    pub fn apply(&self, completion: &str) -> String {
        let mut text = completion.to_owned();
        for filter in &self.filters {
            text = match filter {
                Filter::RemoveUntil { delimiter } => remove_until(&text, delimiter).to_owned(),
                Filter::Regex {
                    regex,
                    group_select,
                    fallback,
                } => regex_extract(&text, regex, *group_select, fallback),
                Filter::RemoveWhitespace => remove_whitespace(&text).to_owned(),
                Filter::TakeFirst | Filter::MajorityVote => text,
            };
        }
        text
    }

    /// Filters the responses of one sample (repeats): per-response filters map each one,
    /// `take_first` and `majority_vote` reduce the list to one.
    pub fn apply_responses(&self, responses: &[String]) -> Vec<String> {
        let mut out = responses.to_vec();
        for filter in &self.filters {
            out = match filter {
                Filter::TakeFirst => out.into_iter().take(1).collect(),
                Filter::MajorityVote => majority_vote(&out).into_iter().collect(),
                single => {
                    let chain = FilterChain::new(vec![single.clone()]);
                    out.iter().map(|r| chain.apply(r)).collect()
                }
            };
        }
        out
    }
}

/// `text.split(delimiter, 1)[-1]`: what follows the first delimiter, or the whole text.
pub fn remove_until<'a>(text: &'a str, delimiter: &str) -> &'a str {
    if delimiter.is_empty() {
        return text;
    }
    text.split_once(delimiter).map_or(text, |(_, after)| after)
}

/// `text.lstrip()` (Python whitespace).
pub fn remove_whitespace(text: &str) -> &str {
    text.trim_start_matches(is_py_space)
}

/// EvalScope's `regex` filter on one response (Python `findall` semantics).
pub fn regex_extract(text: &str, regex: &Regex, group_select: i64, fallback: &str) -> String {
    let groups = regex.captures_len() - 1;
    let matches: Vec<Vec<String>> = regex
        .captures_iter(text)
        .map(|caps| {
            if groups == 0 {
                vec![caps.get(0).map_or("", |m| m.as_str()).to_owned()]
            } else {
                (1..=groups)
                    .map(|g| caps.get(g).map_or("", |m| m.as_str()).to_owned())
                    .collect()
            }
        })
        .collect();
    let len = i64::try_from(matches.len()).unwrap_or(i64::MAX);
    let index = if group_select < 0 {
        len + group_select
    } else {
        group_select
    };
    let Some(found) = usize::try_from(index).ok().and_then(|i| matches.get(i)) else {
        return fallback.to_owned();
    };
    let chosen = if groups > 1 {
        match found.iter().find(|g| !g.is_empty()) {
            Some(g) => g.as_str(),
            None => fallback,
        }
    } else {
        found.first().map_or(fallback, String::as_str)
    };
    crate::mc::py_strip(chosen).to_owned()
}

/// The most frequent response; ties go to the one seen first (`Counter.most_common(1)`).
pub fn majority_vote(responses: &[String]) -> Option<String> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, r) in responses.iter().enumerate() {
        counts.entry(r.as_str()).or_insert((0, i)).0 += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))
        .map(|(r, _)| r.to_owned())
}
