//! The LLM-judge side of the benchmark, as EvalScope 1.14.1's `judge_definition` states it: the
//! request (a system message and a user message ending in the JSON reply contract) and the
//! verdict it expects back (`{"reasoning": str, "verdict": 0..10}`), scored `acc = verdict / 10`.
//!
//! EvalScope scores this benchmark with the judge by default (`ScoringPolicy.JUDGE_DEFAULT`:
//! `--judge-strategy auto` means judge). This module holds only the benchmark's part; sending the
//! request and choosing between rule and judge belong to the judge runner, which calls
//! [`request_for`] and [`score_reply`] (see the benchmark module's docs).

use serde_json::{Value, json};

/// EvalScope's `GENERAL_ORM_PROMPT`, the judge's system message.
pub const SYSTEM: &str = "You are an expert in verifying if the model answer is correct based on the reference answer.
Your input is a question, a reference answer, and a model answer. You need to check if the model answer is correct based on the reference answer.
You should focus on the correctness of the model answer compared to the reference answer, without attempting to solve the original question.
You must provide your final score in the form of a number from 1 to 10, where:

Score 1: The answer is completely unrelated to the reference.
Score 3: The answer has minor relevance but does not align with the reference.
Score 5: The answer has moderate relevance but contains inaccuracies.
Score 7: The answer aligns with the reference but has minor omissions.
Score 10: The answer is completely accurate and aligns perfectly with the reference.
";

/// The reply contract EvalScope's `OutputContract(schema_model=Rating).instruction()` appends.
pub const CONTRACT: &str = "\n\nReply with a single JSON object and no other text, containing these required keys (additional keys are allowed):\n- \"reasoning\": a string\n- \"verdict\": a number >= 0.0 and <= 10.0";

/// EvalScope's `TaskState.input_text` of a sample sent as messages (`messages_pretty_str`):
/// `**<Role>**: <content>` per message, joined by blank lines — the judge's "question", the whole
/// prompt with its context.
pub fn input_text(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            let mut chars = role.chars();
            let role: String = match chars.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            };
            let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
            format!("**{role}**: {content}")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The judge's messages for one sample's filtered prediction: [`request`] with the sample's
/// [`input_text`] and gold.
pub fn request_for(sample: &crate::sample::Sample, prediction: &str) -> Vec<Value> {
    request(&input_text(&sample.messages), &sample.gold, prediction)
}

/// The judge's messages for one answer: `ORM_USER_TEMPLATE` filled with the question (EvalScope
/// passes [`input_text`]), the reference (the needles) and the filtered prediction, then the
/// contract.
pub fn request(question: &str, gold: &str, prediction: &str) -> Vec<Value> {
    let user = format!(
        "\nQuestion: {question}\n\nReference Answer: {gold}\n\nModel Answer: {prediction}\n{CONTRACT}"
    );
    vec![
        json!({"role": "system", "content": SYSTEM}),
        json!({"role": "user", "content": user}),
    ]
}

/// Why a judge reply gives no score.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VerdictError {
    /// No JSON object in the reply.
    #[error("no JSON object found in the reply")]
    NoObject,
    /// More than one top-level JSON object.
    #[error("{0} JSON objects found where exactly one is required")]
    Several(usize),
    /// The object has no usable `verdict`.
    #[error("reply does not satisfy Rating: {0}")]
    Rating(String),
}

/// The top-level JSON objects of a reply (text around them, a `<think>` block or a fence, is
/// skipped), as EvalScope's contract parser scans for them.
fn objects(reply: &str) -> Vec<serde_json::Map<String, Value>> {
    let mut out = Vec::new();
    let mut rest = reply;
    while let Some(start) = rest.find('{') {
        let candidate = &rest[start..];
        let mut stream = serde_json::Deserializer::from_str(candidate).into_iter::<Value>();
        match stream.next() {
            Some(Ok(Value::Object(map))) => {
                let used = stream.byte_offset();
                out.push(map);
                rest = &candidate[used..];
            }
            _ => rest = &candidate[1..],
        }
    }
    out
}

/// The `acc` of a judge reply: `verdict / 10` of its one JSON object, `verdict` a number (or a
/// numeric string, as Pydantic coerces) in 0..=10.
pub fn score_reply(reply: &str) -> Result<f64, VerdictError> {
    let found = objects(reply);
    let object = match found.as_slice() {
        [] => return Err(VerdictError::NoObject),
        [one] => one,
        many => return Err(VerdictError::Several(many.len())),
    };
    let verdict = match object.get("verdict") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .ok_or_else(|| VerdictError::Rating("`verdict` must be a number".to_owned()))?;
    if !(0.0..=10.0).contains(&verdict) {
        return Err(VerdictError::Rating(format!(
            "`verdict` must be between 0 and 10, got {verdict}"
        )));
    }
    if let Some(r) = object.get("reasoning")
        && !r.is_string()
    {
        return Err(VerdictError::Rating(
            "`reasoning` must be a string".to_owned(),
        ));
    }
    Ok(verdict / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_scores_a_tenth_of_itself() {
        assert_eq!(
            score_reply(r#"{"reasoning": "ok", "verdict": 10}"#),
            Ok(1.0)
        );
        assert_eq!(
            score_reply("<think>hmm {not json</think>\n```json\n{\"verdict\": 7}\n```"),
            Ok(0.7)
        );
        assert_eq!(score_reply(r#"{"verdict": "3"}"#), Ok(0.3));
        assert_eq!(score_reply("ten"), Err(VerdictError::NoObject));
        assert_eq!(
            score_reply(r#"{"verdict": 1} {"verdict": 2}"#),
            Err(VerdictError::Several(2))
        );
        assert!(score_reply(r#"{"verdict": 11}"#).is_err());
        assert!(score_reply(r#"{"reasoning": "x"}"#).is_err());
    }
}
