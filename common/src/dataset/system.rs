//! Putting a system message before a prompt.

use serde_json::{Value, json};

use crate::prompt::{Prompt, PromptBody};

/// `prompt` with a leading `system` message holding `system`. Text becomes a system + user
/// conversation; message lists (also inside bodies) get the system message first unless they
/// already start with one; a body with only a `prompt` (completions) is left as is.
pub(crate) fn prepend(prompt: Prompt, system: &str) -> Prompt {
    let message = json!({"role": "system", "content": system});
    let body = match prompt.body {
        PromptBody::Text { text } => PromptBody::Messages {
            messages: vec![message, json!({"role": "user", "content": text})],
        },
        PromptBody::Messages { mut messages } => {
            insert(&mut messages, message);
            PromptBody::Messages { messages }
        }
        PromptBody::Body { mut body } => {
            if let Some(Value::Array(messages)) = body.get_mut("messages") {
                insert(messages, message);
            }
            PromptBody::Body { body }
        }
        // the system message opens the first turn, so it heads every turn's history
        PromptBody::Conversation { mut turns } => {
            if let Some(first) = turns.first_mut() {
                insert(first, message);
            }
            PromptBody::Conversation { turns }
        }
    };
    Prompt {
        body,
        tokens: prompt.tokens,
    }
}

fn insert(messages: &mut Vec<Value>, message: Value) {
    let has_system = messages
        .first()
        .and_then(|m| m.get("role"))
        .is_some_and(|role| role == "system");
    if !has_system {
        messages.insert(0, message);
    }
}
