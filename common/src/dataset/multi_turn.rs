//! The multi-turn datasets' records (EvalScope's `share_gpt_*_multi_turn` and
//! `custom_multi_turn`): each record one conversation, a [`PromptBody::Conversation`] whose turns
//! are the user messages to send; reference assistant replies are dropped (the model's own
//! answers take their place).

use serde_json::{Value, json};

use super::field::{FieldError, describe};
use super::messages;
use crate::prompt::{Prompt, PromptBody};

/// A conversation of `turns`, cut to `max_turns`; an error when none is left.
fn conversation(
    mut turns: Vec<Vec<Value>>,
    max_turns: Option<usize>,
) -> Result<Prompt, FieldError> {
    if let Some(max) = max_turns {
        turns.truncate(max);
    }
    if turns.is_empty() {
        return Err(FieldError::record("a conversation with no user turn"));
    }
    Ok(Prompt {
        body: PromptBody::Conversation { turns },
        tokens: None,
    })
}

/// A ShareGPT conversation: `{"conversation": [{"human": ..., "assistant": ...}]}` (EvalScope's
/// swift/sharegpt lines) or `{"conversations": [{"from": "human"|"user"|..., "value": ...}]}`
/// (ShareGPT V3). Every non-blank human text, trimmed, is one turn (EvalScope skips blank ones).
pub(crate) fn sharegpt(value: &Value, max_turns: Option<usize>) -> Result<Prompt, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::record(format!(
            "expected a conversation object, found {}",
            describe(value)
        )));
    };
    let (field, key, is_human): (&str, &str, fn(&Value) -> bool) =
        if map.contains_key("conversation") {
            ("conversation", "human", |_| true)
        } else {
            ("conversations", "value", |t| {
                matches!(
                    t.get("from").and_then(Value::as_str),
                    Some("human" | "user")
                )
            })
        };
    let list = match map.get(field) {
        None => return Err(FieldError::missing("conversation")),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(FieldError::wrong_type(field, "an array", other)),
    };
    let mut turns = Vec::new();
    for (i, turn) in list.iter().enumerate() {
        if !turn.is_object() {
            return Err(FieldError::wrong_type(
                format!("{field}[{i}]"),
                "an object",
                turn,
            ));
        }
        if !is_human(turn) {
            continue;
        }
        let text = match turn.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.trim(),
            Some(other) => {
                return Err(FieldError::wrong_type(
                    format!("{field}[{i}].{key}"),
                    "a string",
                    other,
                ));
            }
        };
        if !text.is_empty() {
            turns.push(vec![json!({"role": "user", "content": text})]);
        }
    }
    conversation(turns, max_turns)
}

/// A `custom_multi_turn` line: a JSON array of chat messages. Each run of non-`assistant`
/// messages before an `assistant` message (or the end) is one turn; the assistant messages only
/// mark where turns end.
pub(crate) fn custom(value: &Value, max_turns: Option<usize>) -> Result<Prompt, FieldError> {
    let Value::Array(list) = value else {
        return Err(FieldError::record(format!(
            "expected an array of chat messages, found {}",
            describe(value)
        )));
    };
    messages::check(list, "")?;
    let mut turns = Vec::new();
    let mut current = Vec::new();
    for m in list {
        if m.get("role").and_then(Value::as_str) == Some("assistant") {
            if !current.is_empty() {
                turns.push(std::mem::take(&mut current));
            }
        } else {
            current.push(m.clone());
        }
    }
    if !current.is_empty() {
        turns.push(current);
    }
    conversation(turns, max_turns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(p: &Prompt) -> Vec<Vec<Value>> {
        match &p.body {
            PromptBody::Conversation { turns } => turns.clone(),
            other => panic!("not a conversation: {other:?}"),
        }
    }

    #[test]
    fn swift_sharegpt_keeps_every_human_turn_and_drops_the_replies() {
        let v = json!({"conversation": [
            {"human": " Hi ", "assistant": "Hello"},
            {"human": "", "assistant": "x"},
            {"human": "Tell me more", "assistant": "Sure"}
        ]});
        let p = sharegpt(&v, None).expect("conversation");
        assert_eq!(
            turns(&p),
            vec![
                vec![json!({"role": "user", "content": "Hi"})],
                vec![json!({"role": "user", "content": "Tell me more"})],
            ]
        );
        let cut = sharegpt(&v, Some(1)).expect("cut");
        assert_eq!(turns(&cut).len(), 1);
    }

    #[test]
    fn sharegpt_v3_reads_human_values() {
        let v = json!({"id": "a", "conversations": [
            {"from": "human", "value": "one"}, {"from": "gpt", "value": "r"},
            {"from": "human", "value": "two"}
        ]});
        let t = turns(&sharegpt(&v, None).expect("conversation"));
        assert_eq!(t.len(), 2);
        assert_eq!(t[1][0]["content"], "two");
    }

    #[test]
    fn bad_sharegpt_records_name_the_field() {
        let e = sharegpt(&json!({"conversation": [{"human": 3}]}), None).expect_err("bad");
        assert_eq!(e.field.as_deref(), Some("conversation[0].human"));
        let e = sharegpt(&json!({"conversation": []}), None).expect_err("empty");
        assert!(e.message.contains("no user turn"), "{}", e.message);
        let e = sharegpt(&json!({"x": 1}), None).expect_err("missing");
        assert_eq!(e.field.as_deref(), Some("conversation"));
    }

    #[test]
    fn custom_lines_split_at_assistant_messages() {
        let v = json!([
            {"role": "system", "content": "s"}, {"role": "user", "content": "u1"},
            {"role": "assistant", "content": "ref"}, {"role": "user", "content": "u2"},
            {"role": "assistant", "content": "ref"}, {"role": "user", "content": "u3"}
        ]);
        let t = turns(&custom(&v, None).expect("conversation"));
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].len(), 2, "system and first user message are turn 1");
        assert_eq!(t[2][0]["content"], "u3");
        assert_eq!(turns(&custom(&v, Some(2)).expect("cut")).len(), 2);
        let e = custom(&json!([{"role": "user"}]), None).expect_err("no content");
        assert_eq!(e.field.as_deref(), Some("[0].content"));
        let e = custom(&json!([{"role": "assistant", "content": "a"}]), None).expect_err("none");
        assert!(e.message.contains("no user turn"));
    }
}
