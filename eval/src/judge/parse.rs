//! Reading a judge's reply as EvalScope 1.14.1's `OutputContract.parse` does: exactly one
//! top-level JSON object in the text (a `<think>` block or a fence around it is fine), validated
//! against the contract's schema. Anything else is a parse error, never a zero.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::prompt::Contract;

/// A reply that satisfied the contract: the metric values it gives and the parsed object (as
/// EvalScope's `parsed_value`, defaults filled in).
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Metric → value.
    pub value: BTreeMap<String, f64>,
    /// The validated object.
    pub parsed: Value,
}

/// Parses `reply` under `contract`; `scores` maps a label to its value (pattern contracts) and
/// `metric` names the value (`acc`).
pub fn parse(
    reply: &str,
    contract: &Contract,
    scores: &BTreeMap<String, f64>,
    metric: &str,
) -> Result<Verdict, String> {
    if reply.is_empty() {
        return Err("empty response".to_owned());
    }
    let payloads = payloads(reply);
    let payload = match payloads.as_slice() {
        [] => return Err("no JSON object found in the reply".to_owned()),
        [one] => *one,
        many => {
            return Err(format!(
                "{} JSON objects found where exactly one is required",
                many.len()
            ));
        }
    };
    let data: Value =
        serde_json::from_str(payload).map_err(|e| format!("reply is not valid JSON: {e}"))?;
    let Value::Object(obj) = data else {
        return Err("reply is not a JSON object".to_owned());
    };
    match contract {
        Contract::Labels(labels) => {
            let reasoning = reasoning(&obj)?;
            let verdict = label(&obj, labels)?;
            let value = scores
                .get(&verdict)
                .copied()
                .ok_or_else(|| format!("verdict {verdict:?} has no score in score_mapping"))?;
            Ok(Verdict {
                value: BTreeMap::from([(metric.to_owned(), value)]),
                parsed: serde_json::json!({"reasoning": reasoning, "verdict": verdict}),
            })
        }
        Contract::Equivalence => {
            let verdict = label(&obj, &["Yes".to_owned(), "No".to_owned()])?;
            let value = if verdict == "Yes" { 1.0 } else { 0.0 };
            Ok(Verdict {
                value: BTreeMap::from([("acc".to_owned(), value)]),
                parsed: serde_json::json!({"verdict": verdict}),
            })
        }
        Contract::Scale(max) => {
            let reasoning = reasoning(&obj)?;
            let verdict = number("verdict", obj.get("verdict"))?;
            if !(0.0..=*max).contains(&verdict) {
                return Err(format!(
                    "reply does not satisfy the schema: verdict {verdict} is not between 0 and {max}"
                ));
            }
            Ok(Verdict {
                value: BTreeMap::from([(metric.to_owned(), verdict / max)]),
                parsed: serde_json::json!({"reasoning": reasoning, "verdict": verdict}),
            })
        }
        Contract::Rating => {
            let reasoning = reasoning(&obj)?;
            let score = number("score", obj.get("score"))?;
            if !(0.0..=1.0).contains(&score) {
                return Err(format!(
                    "reply does not satisfy the schema: score {score} is not between 0 and 1"
                ));
            }
            Ok(Verdict {
                value: BTreeMap::from([(metric.to_owned(), score)]),
                parsed: serde_json::json!({"reasoning": reasoning, "score": score}),
            })
        }
    }
}

/// `reasoning`: a string, `""` when absent.
fn reasoning(obj: &Map<String, Value>) -> Result<String, String> {
    match obj.get("reasoning") {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "reply does not satisfy the schema: reasoning must be a string, got {other}"
        )),
    }
}

/// `verdict`: exactly one of `labels`.
fn label(obj: &Map<String, Value>, labels: &[String]) -> Result<String, String> {
    match obj.get("verdict") {
        None => Err("reply does not satisfy the schema: verdict is missing".to_owned()),
        Some(Value::String(s)) if labels.contains(s) => Ok(s.clone()),
        Some(other) => Err(format!(
            "reply does not satisfy the schema: verdict must be one of {}, got {other}",
            labels.join(", ")
        )),
    }
}

/// Pydantic's lax `float`: a JSON number, a string holding one, or a bool (1.0 / 0.0).
fn number(field: &str, v: Option<&Value>) -> Result<f64, String> {
    let bad = |what: &dyn std::fmt::Display| {
        format!("reply does not satisfy the schema: {field} must be a number, got {what}")
    };
    match v {
        None => Err(format!(
            "reply does not satisfy the schema: {field} is missing"
        )),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(|| bad(n)),
        Some(Value::Bool(b)) => Ok(if *b { 1.0 } else { 0.0 }),
        Some(Value::String(s)) => s.trim().parse::<f64>().map_err(|_| bad(&format!("{s:?}"))),
        Some(other) => Err(bad(other)),
    }
}

/// Every top-level `{...}` of `reply`, found by a scan that tracks JSON strings (a quote
/// anywhere opens one, as EvalScope's scanner does).
pub fn payloads(reply: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for (i, c) in reply.char_indices() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    found.push(&reply[start..=i]);
                }
            }
            _ => {}
        }
    }
    found
}
