//! Answers of the non-generative APIs: `/v1/embeddings` (`{"data": [{"embedding": [..]}],
//! "usage"}`) and `/v1/rerank` (`{"results": [{"index", "relevance_score"}], "usage"}`).

use serde::Deserialize;
use serde_json::Value;
use swarm_common::shard::ApiKind;

use super::chunk::Usage;

/// `usage` of an embeddings or rerank answer.
#[derive(Debug, Default, Deserialize)]
struct RetrievalUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    total_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Option<Vec<Value>>,
    #[serde(default)]
    results: Option<Vec<Value>>,
    #[serde(default)]
    usage: Option<RetrievalUsage>,
    #[serde(default)]
    error: Option<Value>,
}

/// The usage of a whole embeddings or rerank answer, or why it is not one: not JSON, an
/// `error` object, no `data` list of objects with an `embedding` (embeddings), no `results`
/// list of objects (rerank). Prompt tokens are `usage.prompt_tokens`, else
/// `usage.total_tokens` (as EvalScope reads them), with 0 completion tokens; None without
/// usage.
pub(super) fn parse(api: ApiKind, bytes: &[u8]) -> Result<Option<Usage>, String> {
    let answer: Answer = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if let Some(e) = answer.error {
        return Err(format!("error in answer: {e}"));
    }
    match api {
        ApiKind::Embedding => {
            let data = answer.data.ok_or("answer has no `data` list")?;
            if data.is_empty() {
                return Err("answer has an empty `data` list".into());
            }
            if !data.iter().all(|d| d.get("embedding").is_some()) {
                return Err("an element of `data` has no `embedding`".into());
            }
        }
        _ => {
            let results = answer.results.ok_or("answer has no `results` list")?;
            if !results.iter().all(Value::is_object) {
                return Err("an element of `results` is not an object".into());
            }
        }
    }
    Ok(answer.usage.and_then(|u| {
        let prompt = u.prompt_tokens.filter(|&p| p > 0).or(u.total_tokens)?;
        Some(Usage {
            prompt_tokens: Some(prompt),
            completion_tokens: Some(0),
            ..Usage::default()
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_answer() {
        let u = parse(
            ApiKind::Embedding,
            br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"usage":{"prompt_tokens":7,"total_tokens":7}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(u.prompt_tokens, Some(7));
        assert_eq!(u.completion_tokens, Some(0));
    }

    #[test]
    fn rerank_answer_with_total_tokens_only() {
        let u = parse(
            ApiKind::Rerank,
            br#"{"id":"r","results":[{"index":1,"relevance_score":0.9},{"index":0,"relevance_score":0.1}],"usage":{"total_tokens":12}}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(u.prompt_tokens, Some(12));
        assert!(
            parse(ApiKind::Rerank, br#"{"results":[]}"#)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn malformed_answers_are_errors() {
        for (api, body) in [
            (ApiKind::Embedding, &b"not json"[..]),
            (ApiKind::Embedding, br#"{"data":[]}"#),
            (ApiKind::Embedding, br#"{"data":[{"index":0}]}"#),
            (ApiKind::Embedding, br#"{"results":[]}"#),
            (ApiKind::Rerank, br#"{"data":[{"embedding":[1]}]}"#),
            (ApiKind::Rerank, br#"{"results":[1,2]}"#),
            (ApiKind::Rerank, br#"{"error":{"message":"boom"}}"#),
            (ApiKind::Rerank, br#"[1]"#),
        ] {
            assert!(
                parse(api, body).is_err(),
                "{api:?} {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
