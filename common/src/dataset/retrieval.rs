//! The embedding and rerank file datasets (EvalScope's `embedding`, `embedding_batch` and
//! `rerank` plugins): their records, and the batching of `embedding_batch`.

use serde_json::{Map, Value};

use super::field::{FieldError, describe};
use super::{DatasetError, PromptSink};
use crate::prompt::{Prompt, PromptBody};

/// The text fields of an embedding record, in EvalScope's order of preference.
const TEXT_FIELDS: [&str; 4] = ["text", "input", "sentence", "content"];

/// An `embedding` record: a string, or an object whose first non-empty string of `text`,
/// `input`, `sentence`, `content` is the text (trimmed).
pub(crate) fn embedding_record(value: &Value) -> Result<Prompt, FieldError> {
    let text = match value {
        Value::String(s) => Some(s.trim()),
        Value::Object(map) => TEXT_FIELDS
            .iter()
            .filter_map(|f| map.get(*f).and_then(Value::as_str))
            .map(str::trim)
            .find(|s| !s.is_empty()),
        other => {
            return Err(FieldError::record(format!(
                "expected a string or an object with `text`, `input`, `sentence` or `content`, found {}",
                describe(other)
            )));
        }
    };
    match text {
        Some(t) if !t.is_empty() => Ok(Prompt::text(t)),
        _ => Err(FieldError::record(
            "no non-empty `text`, `input`, `sentence` or `content`",
        )),
    }
}

/// A `rerank` record: an object with a non-empty string `query` and a non-empty list of
/// `documents` (or `passages`, `texts`) → a body `{query, documents}`.
pub(crate) fn rerank_record(value: &Value) -> Result<Prompt, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::record(format!(
            "expected an object with `query` and `documents`, found {}",
            describe(value)
        )));
    };
    let query = match map.get("query") {
        Some(Value::String(q)) if !q.trim().is_empty() => q.clone(),
        Some(Value::String(_)) => return Err(FieldError::new("query", "is empty")),
        Some(other) => return Err(FieldError::wrong_type("query", "a string", other)),
        None => return Err(FieldError::missing("query")),
    };
    let documents = ["documents", "passages", "texts"]
        .iter()
        .find_map(|f| match map.get(*f) {
            Some(Value::Array(d)) if !d.is_empty() => Some(Value::Array(d.clone())),
            Some(Value::String(d)) if !d.is_empty() => {
                Some(Value::Array(vec![Value::from(d.as_str())]))
            }
            _ => None,
        })
        .ok_or_else(|| FieldError::new("documents", "missing or empty"))?;
    let mut body = Map::new();
    body.insert("query".into(), Value::from(query));
    body.insert("documents".into(), documents);
    Ok(Prompt {
        body: PromptBody::Body { body },
        tokens: None,
    })
}

/// Groups text prompts into `{"input": [..]}` bodies of `size` texts (the last may be
/// shorter); `tokens` is the sum when every text's count is known.
pub(crate) struct BatchSink<'a> {
    inner: &'a mut dyn PromptSink,
    size: usize,
    pending: Vec<Prompt>,
    /// Batches given to the inner sink.
    pub batches: usize,
}

impl<'a> BatchSink<'a> {
    pub fn new(inner: &'a mut dyn PromptSink, size: usize) -> Self {
        Self {
            inner,
            size: size.max(1),
            pending: Vec::new(),
            batches: 0,
        }
    }

    /// Sends what is pending as one batch.
    pub fn flush(&mut self) -> Result<(), DatasetError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let texts = std::mem::take(&mut self.pending);
        let tokens = texts
            .iter()
            .map(|p| p.tokens)
            .try_fold(0u32, |acc, t| t.map(|t| acc.saturating_add(t)));
        let input = texts
            .iter()
            .map(|p| Value::from(p.plain_text()))
            .collect::<Vec<_>>();
        let mut body = Map::new();
        body.insert("input".into(), Value::Array(input));
        self.batches += 1;
        self.inner.push(Prompt {
            body: PromptBody::Body { body },
            tokens,
        })
    }
}

impl PromptSink for BatchSink<'_> {
    fn push(&mut self, prompt: Prompt) -> Result<(), DatasetError> {
        self.pending.push(prompt);
        if self.pending.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn embedding_records() {
        assert_eq!(
            embedding_record(&json!(" hi ")).unwrap(),
            Prompt::text("hi")
        );
        assert_eq!(
            embedding_record(&json!({"input": "a b", "text": ""})).unwrap(),
            Prompt::text("a b")
        );
        assert!(embedding_record(&json!({"other": "x"})).is_err());
        assert!(embedding_record(&json!(3)).is_err());
    }

    #[test]
    fn rerank_records() {
        let p = rerank_record(&json!({"query": "q", "passages": ["a", "b"]})).unwrap();
        let PromptBody::Body { body } = p.body else {
            panic!("body")
        };
        assert_eq!(
            Value::Object(body),
            json!({"query": "q", "documents": ["a", "b"]})
        );
        assert!(rerank_record(&json!({"query": "q", "documents": []})).is_err());
        assert!(rerank_record(&json!({"documents": ["a"]})).is_err());
    }

    #[test]
    fn batches_of_texts_with_a_short_last_one() {
        let mut out: Vec<Prompt> = Vec::new();
        let mut b = BatchSink::new(&mut out, 2);
        for t in ["a", "b", "c"] {
            let mut p = Prompt::text(t);
            p.tokens = Some(1);
            b.push(p).unwrap();
        }
        b.flush().unwrap();
        assert_eq!(b.batches, 2);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].tokens, Some(2));
        let PromptBody::Body { body } = &out[1].body else {
            panic!("body")
        };
        assert_eq!(body["input"], json!(["c"]));
    }
}
