//! The judge's request: EvalScope 1.14.1's prompt templates with the sample's question, reference
//! and prediction, and the output contract's reply instruction appended.

use serde_json::{Value, json};

use super::{JudgeContract, JudgeKind, ScoreType};

/// EvalScope's `DEFAULT_PROMPT_TEMPLATE` (pattern judging against a reference answer).
pub const DEFAULT_PROMPT_TEMPLATE: &str = "Your job is to look at a question, a gold target, and a predicted answer, and decide whether the predicted answer is correct or incorrect.

[Question]
{question}

[Reference Answer]
{gold}

[Predicted Answer]
{pred}

Evaluate the model's answer based on correctness compared to the reference answer.
Grade the predicted answer of this new question as one of:
A: CORRECT
B: INCORRECT";

/// EvalScope's `DEFAULT_NUMERIC_SCORE_TEMPLATE` (a 0..1 rating without a reference).
pub const DEFAULT_NUMERIC_SCORE_TEMPLATE: &str = "Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response.
Begin your evaluation by providing a short explanation. Be as objective as possible.
Rate the response on a scale of 0 (worst) to 1 (best).

[Question]
{question}

[Response]
{pred}";

/// AIME's `JUDGE_PROMPT` (EvalScope's `aime_adapter.py`), with `{expression1}` the prediction and
/// `{expression2}` the reference.
pub const EQUIVALENCE_PROMPT: &str = r#"
Look at the following two expressions (answers to a math problem) and judge whether they are equivalent. Only perform trivial simplifications

Examples:

    Expression 1: $2x+3$
    Expression 2: $3+2x$

Yes

    Expression 1: 3/2
    Expression 2: 1.5

Yes

    Expression 1: $x^2+2x+1$
    Expression 2: $y^2+2y+1$

No

    Expression 1: $x^2+2x+1$
    Expression 2: $(x+1)^2$

Yes

    Expression 1: 3245/5
    Expression 2: 649

No
(these are actually equal, don't mark them equivalent if you need to do nontrivial simplifications)

    Expression 1: 2/(-3)
    Expression 2: -2/3

Yes
(trivial simplifications are allowed)

    Expression 1: 72 degrees
    Expression 2: 72

Yes
(give benefit of the doubt to units)

    Expression 1: 64
    Expression 2: 64 square feet

Yes
(give benefit of the doubt to units)

---

YOUR TASK


Respond with only "Yes" or "No" (without quotes). Do not include a rationale.

    Expression 1: {expression1}
    Expression 2: {expression2}

"#;

/// EvalScope's needle_haystack judge (`GENERAL_ORM_PROMPT` as system, `ORM_USER_TEMPLATE` with the
/// filtered prediction; its `Rating` contract: a verdict from 0 to 10, scored verdict / 10).
pub const ORM_SCALE_10: super::CustomJudge = super::CustomJudge {
    case_id: "score",
    system_prompt: Some(GENERAL_ORM_PROMPT),
    template: ORM_USER_TEMPLATE,
    filtered_prediction: true,
    scale: 10.0,
};

/// EvalScope's `GENERAL_ORM_PROMPT` (`benchmarks/needle_haystack/utils.py`).
pub const GENERAL_ORM_PROMPT: &str = "You are an expert in verifying if the model answer is correct based on the reference answer.
Your input is a question, a reference answer, and a model answer. You need to check if the model answer is correct based on the reference answer.
You should focus on the correctness of the model answer compared to the reference answer, without attempting to solve the original question.
You must provide your final score in the form of a number from 1 to 10, where:

Score 1: The answer is completely unrelated to the reference.
Score 3: The answer has minor relevance but does not align with the reference.
Score 5: The answer has moderate relevance but contains inaccuracies.
Score 7: The answer aligns with the reference but has minor omissions.
Score 10: The answer is completely accurate and aligns perfectly with the reference.
";

/// EvalScope's `ORM_USER_TEMPLATE` (`benchmarks/needle_haystack/utils.py`).
pub const ORM_USER_TEMPLATE: &str = "
Question: {question}

Reference Answer: {gold}

Model Answer: {pred}
";

/// The reply a judge must give: the keys of one JSON object and what each holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Contract {
    /// `{"reasoning": str = "", "verdict": one of labels}`, labels sorted.
    Labels(Vec<String>),
    /// `{"reasoning": str = "", "score": number in [0, 1]}`.
    Rating,
    /// AIME's `{"verdict": "Yes" | "No"}`.
    Equivalence,
    /// `{"reasoning": str = "", "verdict": number in [0, scale]}` (a benchmark's rating).
    Scale(f64),
}

impl Contract {
    /// The contract of a benchmark's judge question.
    pub fn of(kind: JudgeKind, contract: &JudgeContract) -> Contract {
        match (kind, contract.score_type) {
            (JudgeKind::Equivalence, _) => Contract::Equivalence,
            (JudgeKind::Custom(c), _) => Contract::Scale(c.scale),
            (JudgeKind::Generic, ScoreType::Numeric) => Contract::Rating,
            (JudgeKind::Generic, ScoreType::Pattern) => {
                Contract::Labels(contract.mapping().into_keys().collect())
            }
        }
    }

    /// EvalScope's `OutputContract.instruction()`: appended to the prompt.
    pub fn instruction(&self) -> String {
        let alternatives = |labels: &[String]| {
            let quoted: Vec<String> = labels.iter().map(|l| format!("\"{l}\"")).collect();
            format!("exactly one of {}", quoted.join(" or "))
        };
        let fields = match self {
            Contract::Labels(labels) => format!(
                "- \"reasoning\": a string\n- \"verdict\": {}",
                alternatives(labels)
            ),
            Contract::Rating => {
                "- \"reasoning\": a string\n- \"score\": a number >= 0.0 and <= 1.0".to_owned()
            }
            Contract::Equivalence => {
                format!(
                    "- \"verdict\": {}",
                    alternatives(&["Yes".to_owned(), "No".to_owned()])
                )
            }
            Contract::Scale(max) => format!(
                "- \"reasoning\": a string\n- \"verdict\": a number >= 0.0 and <= {}",
                py_float(*max)
            ),
        };
        format!(
            "\n\nReply with a single JSON object and no other text, containing these required keys (additional keys are allowed):\n{fields}"
        )
    }
}

/// Python's `str(float)` for the bounds a contract states (`10.0`, `0.5`).
fn py_float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// Python's `str.format` with named fields only: `{{` and `}}` are braces, `{name}` is replaced
/// by its value (verbatim); any other field is left as written.
fn py_format(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("{{") || after.starts_with("}}") {
            out.push_str(&after[..1]);
            rest = &after[2..];
            continue;
        }
        let field = values.iter().find(|(name, _)| {
            after
                .strip_prefix('{')
                .and_then(|a| a.strip_prefix(name))
                .is_some_and(|a| a.starts_with('}'))
        });
        match field {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len() + 2..];
            }
            None => {
                out.push_str(&after[..1]);
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// EvalScope's `TaskState.input_text` for chat messages (`messages_pretty_str`): each message as
/// `**Role**: text`, joined by a blank line.
pub fn question_text(messages: &[Value]) -> String {
    messages
        .iter()
        .map(|m| {
            let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
            format!("**{}**: {}", capitalize(role), message_text(m))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Python's `str.capitalize()`: the first character upper case, the rest lower case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
    }
}

/// A message's text: its string content, or its text parts joined by newlines.
fn message_text(m: &Value) -> String {
    match m.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// EvalScope's `LLMJudge.build_prompt`: `{question}`, `{pred}` and `{gold}` replaced once each
/// occurrence, the inserted values verbatim (no placeholder inside a value is expanded).
pub fn fill(template: &str, question: &str, pred: &str, gold: &str) -> String {
    fill_named(
        template,
        &[("{question}", question), ("{pred}", pred), ("{gold}", gold)],
    )
}

/// Each `{name}` of `values` in `template` replaced by its value in one pass.
fn fill_named(template: &str, values: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        let hit = values.iter().copied().find(|(p, _)| after.starts_with(p));
        match hit {
            Some((p, value)) => {
                out.push_str(value);
                rest = &after[p.len()..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The chat messages of one judge request for a sample whose messages are `messages`, reference
/// `gold`, prediction `pred` (the whole completion) and `filtered` (what the extractor kept).
pub fn request(
    kind: JudgeKind,
    contract: &JudgeContract,
    messages: &[Value],
    gold: &str,
    (pred, filtered): (&str, &str),
) -> Vec<Value> {
    let shape = Contract::of(kind, contract);
    match kind {
        JudgeKind::Custom(c) => {
            let pred = if c.filtered_prediction {
                filtered
            } else {
                pred
            };
            let question = question_text(messages);
            let prompt = py_format(
                c.template,
                &[("question", &question), ("gold", gold), ("pred", pred)],
            );
            let mut out = Vec::with_capacity(2);
            if let Some(system) = c.system_prompt {
                out.push(json!({"role": "system", "content": system}));
            }
            out.push(json!({"role": "user", "content": prompt + &shape.instruction()}));
            out
        }
        JudgeKind::Equivalence => {
            // Python's str.format of the AIME template: the values inserted verbatim
            let prompt = py_format(
                EQUIVALENCE_PROMPT,
                &[("expression1", pred), ("expression2", gold)],
            );
            vec![json!({"role": "user", "content": prompt + &shape.instruction()})]
        }
        JudgeKind::Generic => {
            let template =
                contract
                    .prompt_template
                    .as_deref()
                    .unwrap_or(match contract.score_type {
                        ScoreType::Pattern => DEFAULT_PROMPT_TEMPLATE,
                        ScoreType::Numeric => DEFAULT_NUMERIC_SCORE_TEMPLATE,
                    });
            let question = if messages.is_empty() {
                "Not provided".to_owned()
            } else {
                question_text(messages)
            };
            let prompt = fill(template, &question, pred, gold);
            let mut out = Vec::with_capacity(2);
            if let Some(system) = contract.system_prompt.as_deref().filter(|s| !s.is_empty()) {
                out.push(json!({"role": "system", "content": system}));
            }
            out.push(json!({"role": "user", "content": prompt + &shape.instruction()}));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_once_and_values_kept_verbatim() {
        assert_eq!(
            fill("{question}|{gold}|{pred}|{other}|{", "q {pred}", "p", "g"),
            "q {pred}|g|p|{other}|{"
        );
    }

    #[test]
    fn question_text_is_evalscopes_pretty_messages() {
        let m = vec![
            json!({"role": "system", "content": "Be brief."}),
            json!({"role": "user", "content": "What is 2+2?"}),
        ];
        assert_eq!(
            question_text(&m),
            "**System**: Be brief.\n\n**User**: What is 2+2?"
        );
    }
}
