//! The judge role of answer-key mode: a chat request that is an LLM-judge prompt (EvalScope
//! 1.14.1's templates, as swarmbench sends them) about a keyed question is answered with the
//! verdict that is true under the key, so a judged eval has a known score.
//!
//! Two prompts are recognised, both ending with EvalScope's JSON reply instruction:
//!
//! - the generic one (`[Question]` / `[Reference Answer]` / `[Predicted Answer]`): the question
//!   (the text after the last `**User**: `) is looked up in the key; a prediction that is the
//!   question's right text gets `{"verdict": "A"}`, its wrong text `{"verdict": "B"}`;
//! - AIME's equivalence prompt (`Expression 1` the prediction): `"Yes"` when the prediction is
//!   a right text of the key, `"No"` when it is a wrong one;
//! - a rating prompt (`Question:` / `Reference Answer:` / `Model Answer:`, needle_haystack's):
//!   the question is looked up as above; a model answer that is the right text, or a part of it
//!   and of no wrong text, gets `{"verdict": 10}`, one that is (a part of only) the wrong text
//!   `{"verdict": 0}`.
//!
//! Anything else (a prediction that is no key text, a question not in the key, another
//! template) is not a judge request here: it gets generated words, which a judge client reads
//! as a reply that breaks the contract.

use crate::answer_key::{AnswerKey, prompt_sha256};

/// The end of every judge prompt: EvalScope's `OutputContract.instruction()` opening.
const INSTRUCTION: &str = "\n\nReply with a single JSON object and no other text";
const QUESTION: &str = "[Question]\n";
const REFERENCE: &str = "\n\n[Reference Answer]\n";
const PREDICTED: &str = "\n\n[Predicted Answer]\n";
const GENERIC_TAIL: &str = "\n\nEvaluate the model's answer based on correctness";
const USER: &str = "**User**: ";
const EXPRESSION_1: &str = "    Expression 1: ";
const EXPRESSION_2: &str = "\n    Expression 2: ";
const EQUIVALENCE_TASK: &str = "YOUR TASK";
const RATING_QUESTION: &str = "\nQuestion: ";
const RATING_REFERENCE: &str = "\n\nReference Answer: ";
const RATING_ANSWER: &str = "\n\nModel Answer: ";

/// The judge's reply (a JSON object) to `content`, the last user message of a chat request,
/// when it is a judge prompt about a keyed answer.
pub(crate) fn verdict(key: &AnswerKey, content: &str) -> Option<String> {
    let body = &content[..content.rfind(INSTRUCTION)?];
    if let Some(right) = generic(key, body) {
        let (label, why) = if right {
            ("A", "the predicted answer is the key's right answer")
        } else {
            ("B", "the predicted answer is the key's wrong answer")
        };
        return Some(serde_json::json!({"reasoning": why, "verdict": label}).to_string());
    }
    if let Some(right) = equivalence(key, body) {
        return Some(serde_json::json!({"verdict": if right { "Yes" } else { "No" }}).to_string());
    }
    let right = rating(key, body)?;
    let why = if right {
        "the model answer is the key's right answer"
    } else {
        "the model answer is the key's wrong answer"
    };
    Some(serde_json::json!({"reasoning": why, "verdict": if right { 10 } else { 0 }}).to_string())
}

/// The rating prompt: whether its model answer (a filtered prediction) is right for its
/// question.
fn rating(key: &AnswerKey, body: &str) -> Option<bool> {
    let q = body.find(RATING_QUESTION)? + RATING_QUESTION.len();
    let r = q + body[q..].find(RATING_REFERENCE)?;
    let a = body.rfind(RATING_ANSWER).filter(|a| *a >= r)? + RATING_ANSWER.len();
    let question = &body[q..r];
    let asked = &question[question.rfind(USER)? + USER.len()..];
    let sha = prompt_sha256(asked);
    let answer = body[a..].trim();
    if let Some(exact) = key.is_right_answer(&sha, answer) {
        return Some(exact);
    }
    let (_, right, wrong) = key.texts(&sha)?;
    match (right.contains(answer), wrong.contains(answer)) {
        _ if answer.is_empty() => None,
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The generic prompt: whether its prediction is right for its question.
fn generic(key: &AnswerKey, body: &str) -> Option<bool> {
    let q = body.find(QUESTION)? + QUESTION.len();
    let r = q + body[q..].find(REFERENCE)?;
    let p = r + body[r..].find(PREDICTED)? + PREDICTED.len();
    let end = body.rfind(GENERIC_TAIL).filter(|e| *e >= p)?;
    let question = &body[q..r];
    // EvalScope's question text is the sample's messages as `**Role**: text`: the last user turn
    let asked = &question[question.rfind(USER)? + USER.len()..];
    key.is_right_answer(&prompt_sha256(asked), &body[p..end])
}

/// AIME's equivalence prompt: whether its first expression is a right text of the key.
fn equivalence(key: &AnswerKey, body: &str) -> Option<bool> {
    let task = body.rfind(EQUIVALENCE_TASK)?;
    let e1 = task + body[task..].find(EXPRESSION_1)? + EXPRESSION_1.len();
    let e2 = body.rfind(EXPRESSION_2).filter(|e| *e >= e1)?;
    key.is_right_text(&body[e1..e2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AnswerKeyConfig;

    fn key() -> AnswerKey {
        let line = |q: &str, right: &str, wrong: &str| {
            serde_json::json!({"prompt_sha256": prompt_sha256(q), "correct": right, "wrong": wrong})
                .to_string()
        };
        let text = [
            line("What is 2+2?", "The answer is four.", "The answer is 5."),
            line("What is 3+3?", "6", "7"),
        ]
        .join("\n");
        AnswerKey::parse(&text, 1, &AnswerKeyConfig::new("k", 0.5)).expect("key")
    }

    const TAIL: &str = "\n\nReply with a single JSON object and no other text, containing these required keys (additional keys are allowed):\n- \"reasoning\": a string\n- \"verdict\": exactly one of \"A\" or \"B\"";

    fn generic_prompt(question: &str, pred: &str) -> String {
        format!(
            "Your job is ...\n\n[Question]\n**System**: Be brief.\n\n**User**: {question}\n\n[Reference Answer]\n4\n\n[Predicted Answer]\n{pred}\n\nEvaluate the model's answer based on correctness compared to the reference answer.\nGrade ...\nA: CORRECT\nB: INCORRECT{TAIL}"
        )
    }

    #[test]
    fn a_generic_judge_prompt_gets_the_keys_truth() {
        let k = key();
        let reply = |q: &str, p: &str| verdict(&k, &generic_prompt(q, p));
        let a = reply("What is 2+2?", "The answer is four.").expect("a verdict");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&a).unwrap()["verdict"],
            "A"
        );
        let b = reply("What is 2+2?", "The answer is 5.").expect("a verdict");
        assert!(b.contains("\"verdict\":\"B\""), "{b}");
        // neither text of the question, a question not in the key, no instruction: no verdict
        assert_eq!(reply("What is 2+2?", "6"), None);
        assert_eq!(reply("What is 9+9?", "6"), None);
        assert_eq!(verdict(&k, "What is 2+2?"), None);
    }

    #[test]
    fn a_rating_prompt_gets_ten_for_the_right_answer_and_zero_for_the_wrong_one() {
        let k = key();
        let prompt = |answer: &str| {
            format!(
                "\nQuestion: **User**: What is 2+2?\n\nReference Answer: 4\n\nModel Answer: {answer}\n{TAIL}"
            )
        };
        let v = |a: &str| {
            verdict(&k, &prompt(a))
                .map(|r| serde_json::from_str::<serde_json::Value>(&r).unwrap()["verdict"].clone())
        };
        assert_eq!(v("four."), Some(serde_json::json!(10)));
        assert_eq!(v("The answer is four."), Some(serde_json::json!(10)));
        assert_eq!(v("5."), Some(serde_json::json!(0)));
        assert_eq!(v("The answer is"), None, "in both texts");
        assert_eq!(v("nine"), None);
    }

    #[test]
    fn an_equivalence_prompt_gets_yes_for_a_right_text() {
        let k = key();
        let prompt = |e1: &str| {
            format!(
                "\nLook at ...\n    Expression 1: 3/2\n    Expression 2: 1.5\n\nYes\n---\n\nYOUR TASK\n\n\nRespond with only ...\n\n    Expression 1: {e1}\n    Expression 2: 6\n\n{TAIL}"
            )
        };
        assert!(verdict(&k, &prompt("6")).expect("yes").contains("\"Yes\""));
        assert!(verdict(&k, &prompt("7")).expect("no").contains("\"No\""));
        assert_eq!(verdict(&k, &prompt("8")), None);
    }
}
