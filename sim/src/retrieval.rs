//! `/v1/embeddings` and `/v1/rerank` (also `/v1/reranks`): the non-generative APIs, answered
//! whole after a prefill-only latency.
//!
//! Prompt tokens are counted as for generation: whitespace-separated words of every text (a
//! token-id list counts its ids). Embeddings are deterministic unit vectors of the request's
//! `dimensions` (default [`DEFAULT_DIMENSIONS`]) seeded by the text; a rerank scores each
//! document by the share of the query's distinct words it contains, sorted best first and cut
//! to `top_n`. The latency is the model's time to first token: a `latency.ttft_ms` sample plus
//! `latency.ttft_per_prompt_token_us` per prompt token. The `x-sim-fault` header forces `500`,
//! `429` or `malformed` (a 200 without `data` / `results`); other faults do not apply here.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::body::SimBody;
use crate::openai::error_body;
use crate::plan::{Stream, ms_to_duration, request_rng, splitmix64};
use crate::server::Shared;
use crate::truth::TruthRecorder;
use crate::{FAULT_HEADER, Fault};

/// Embedding size when the request names no `dimensions`.
pub const DEFAULT_DIMENSIONS: usize = 16;
/// Largest `dimensions` accepted.
const MAX_DIMENSIONS: usize = 65_536;

/// Which API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Embeddings,
    Rerank,
}

#[derive(Debug, Deserialize)]
struct EmbeddingRequest {
    #[serde(default)]
    model: Option<String>,
    input: Value,
    #[serde(default)]
    dimensions: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct RerankRequest {
    #[serde(default)]
    model: Option<String>,
    query: String,
    documents: Vec<Value>,
    #[serde(default)]
    top_n: Option<usize>,
    #[serde(default)]
    return_documents: Option<bool>,
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// The texts of an embeddings `input`: a string, a list of strings, a list of token ids, or a
/// list of such lists; each with its token count.
fn inputs(input: &Value) -> Result<Vec<(String, u64)>, String> {
    let one = |v: &Value| -> Result<(String, u64), String> {
        match v {
            Value::String(s) => Ok((s.clone(), words(s))),
            Value::Array(ids) if ids.iter().all(Value::is_u64) => {
                Ok((Value::Array(ids.clone()).to_string(), ids.len() as u64))
            }
            _ => Err("`input` must be a string, a list of strings or token ids".to_owned()),
        }
    };
    match input {
        Value::String(_) => Ok(vec![one(input)?]),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_u64) => {
            Ok(vec![one(input)?])
        }
        Value::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
        _ => Err("`input` must be a non-empty string or list".to_owned()),
    }
}

/// The text of a rerank document: a string, or an object's `text`.
fn document_text(v: &Value) -> Option<&str> {
    match v {
        Value::String(s) => Some(s),
        other => other.get("text").and_then(Value::as_str),
    }
}

/// A unit vector of `dim` values in [-1, 1], the same for the same text.
fn embedding(text: &str, dim: usize) -> Vec<f32> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in text.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let raw: Vec<f64> = (0..dim as u64)
        .map(|i| (splitmix64(h ^ i.wrapping_mul(0x9E37_79B9)) as f64 / u64::MAX as f64) * 2.0 - 1.0)
        .collect();
    let norm = raw
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    raw.iter().map(|v| (v / norm) as f32).collect()
}

/// The share of the query's distinct words found in `doc`, in [0, 1].
fn relevance(query: &HashSet<&str>, doc: &str) -> f64 {
    if query.is_empty() {
        return 0.0;
    }
    let doc: HashSet<&str> = doc.split_whitespace().collect();
    query.intersection(&doc).count() as f64 / query.len() as f64
}

/// The answer's body and its prompt tokens, or a message for a 400.
fn answer(
    api: Api,
    body: &[u8],
    id: u64,
    model_json: impl Fn(Option<&str>) -> String,
) -> Result<(Bytes, u64), String> {
    match api {
        Api::Embeddings => {
            let req: EmbeddingRequest =
                serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
            let texts = inputs(&req.input)?;
            let dim = req.dimensions.unwrap_or(DEFAULT_DIMENSIONS);
            if dim == 0 || dim > MAX_DIMENSIONS {
                return Err(format!(
                    "dimensions must be in 1..={MAX_DIMENSIONS}, got {dim}"
                ));
            }
            let tokens: u64 = texts.iter().map(|(_, n)| n).sum();
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, (t, _))| json!({"object": "embedding", "index": i, "embedding": embedding(t, dim)}))
                .collect();
            let model: Value = serde_json::from_str(&model_json(req.model.as_deref()))
                .map_err(|e| e.to_string())?;
            let out = json!({
                "id": format!("embd-sim-{id}"),
                "object": "list",
                "model": model,
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            });
            Ok((Bytes::from(out.to_string()), tokens))
        }
        Api::Rerank => {
            let req: RerankRequest =
                serde_json::from_slice(body).map_err(|e| format!("invalid request body: {e}"))?;
            let docs = req
                .documents
                .iter()
                .map(|d| document_text(d).ok_or("a document must be a string or {\"text\": ...}"))
                .collect::<Result<Vec<&str>, _>>()?;
            let tokens = words(&req.query) + docs.iter().map(|d| words(d)).sum::<u64>();
            let query: HashSet<&str> = req.query.split_whitespace().collect();
            let mut scored: Vec<(usize, f64)> = docs
                .iter()
                .map(|d| relevance(&query, d))
                .enumerate()
                .collect();
            // best first; ties keep document order
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(req.top_n.unwrap_or(docs.len()));
            let with_docs = req.return_documents.unwrap_or(true);
            let results: Vec<Value> = scored
                .iter()
                .map(|&(i, s)| {
                    let mut r = json!({"index": i, "relevance_score": s});
                    if with_docs {
                        r["document"] = json!({"text": docs[i]});
                    }
                    r
                })
                .collect();
            let model: Value = serde_json::from_str(&model_json(req.model.as_deref()))
                .map_err(|e| e.to_string())?;
            let out = json!({
                "id": format!("rerank-sim-{id}"),
                "model": model,
                "results": results,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            });
            Ok((Bytes::from(out.to_string()), tokens))
        }
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response<SimBody> {
    let mut r = Response::new(SimBody::full(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Largest accepted request body.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// The request header whose value keys the truth log (and is echoed back).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers one embeddings or rerank request.
pub(crate) async fn handle(shared: &Shared, req: Request<Incoming>, api: Api) -> Response<SimBody> {
    let mut r = respond(shared, req, api).await;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

async fn respond(shared: &Shared, req: Request<Incoming>, api: Api) -> Response<SimBody> {
    let received = std::time::Instant::now();
    let t0 = Instant::now();
    let forced = match req.headers().get(FAULT_HEADER) {
        None => None,
        Some(value) => match String::from_utf8_lossy(value.as_bytes()).parse::<Fault>() {
            Ok(fault) => Some(fault),
            Err(e) => return status(StatusCode::BAD_REQUEST, &e.to_string()),
        },
    };
    let request_id = req.headers().get(REQUEST_ID).cloned();
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return status(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body exceeds {MAX_BODY} bytes"),
            );
        }
        Err(e) => {
            return status(
                StatusCode::BAD_REQUEST,
                &format!("cannot read request body: {e}"),
            );
        }
    };
    let request = shared.next_request();
    match forced {
        Some(Fault::ServerError) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_body("simulated internal error", "server_error", 500),
            );
        }
        Some(Fault::RateLimit) => {
            return json_response(
                StatusCode::TOO_MANY_REQUESTS,
                error_body("simulated rate limit", "rate_limit_error", 429),
            );
        }
        _ => {}
    }
    let (data, tokens) = match answer(api, &body, request, |m| shared.model_json(m)) {
        Ok(a) => a,
        Err(message) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                error_body(&message, "invalid_request_error", 400),
            );
        }
    };
    let config = &shared.config;
    let mut rng = request_rng(config.seed, request, Stream::Latency);
    let ms = config.latency.ttft_ms.sample(&mut rng)
        + config.latency.ttft_per_prompt_token_us * tokens as f64 / 1000.0;
    tokio::time::sleep_until(t0 + ms_to_duration(ms).min(Duration::from_secs(86_400))).await;
    let data = if forced == Some(Fault::Malformed) {
        Bytes::from_static(br#"{"object":"list","truncated":true}"#)
    } else {
        data
    };
    if config.record_truth {
        let id = match &request_id {
            Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            None => match api {
                Api::Embeddings => format!("embd-sim-{request}"),
                Api::Rerank => format!("rerank-sim-{request}"),
            },
        };
        let mut rec =
            TruthRecorder::new(shared.truth.clone(), id, received).with_prompt_tokens(tokens);
        rec.event(false);
        rec.frame_sent();
        rec.commit();
    }
    let mut r = json_response(StatusCode::OK, data);
    if let Some(id) = request_id {
        r.headers_mut().insert(REQUEST_ID, id);
    }
    r
}

fn status(code: StatusCode, message: &str) -> Response<SimBody> {
    json_response(
        code,
        error_body(message, "invalid_request_error", code.as_u16()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(m: Option<&str>) -> String {
        format!("\"{}\"", m.unwrap_or("sim-model"))
    }

    #[test]
    fn embeddings_are_deterministic_unit_vectors_with_word_usage() {
        let body = br#"{"input": ["a b c", "d"], "dimensions": 4}"#;
        let (out, tokens) = answer(Api::Embeddings, body, 1, model).unwrap();
        assert_eq!(tokens, 4);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["usage"]["prompt_tokens"], 4);
        assert_eq!(v["data"].as_array().unwrap().len(), 2);
        let e: Vec<f64> = serde_json::from_value(v["data"][0]["embedding"].clone()).unwrap();
        assert_eq!(e.len(), 4);
        assert!((e.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-5);
        let (again, _) = answer(Api::Embeddings, body, 2, model).unwrap();
        let w: Value = serde_json::from_slice(&again).unwrap();
        assert_eq!(v["data"], w["data"]);
        let (_, one) = answer(Api::Embeddings, br#"{"input": "x y"}"#, 3, model).unwrap();
        assert_eq!(one, 2);
        assert!(answer(Api::Embeddings, br#"{"input": []}"#, 4, model).is_err());
        assert!(
            answer(
                Api::Embeddings,
                br#"{"input": "x", "dimensions": 0}"#,
                4,
                model
            )
            .is_err()
        );
    }

    #[test]
    fn rerank_scores_sorted_and_cut_to_top_n() {
        let body = br#"{"query": "red apple", "documents": ["a green pear", "red apple pie", {"text": "an apple"}], "top_n": 2}"#;
        let (out, tokens) = answer(Api::Rerank, body, 1, model).unwrap();
        assert_eq!(tokens, 2 + 3 + 3 + 2);
        let v: Value = serde_json::from_slice(&out).unwrap();
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["index"], 1);
        assert_eq!(results[0]["relevance_score"], 1.0);
        assert_eq!(results[1]["index"], 2);
        assert_eq!(v["usage"]["total_tokens"], 10);
        assert!(answer(Api::Rerank, br#"{"query": "q"}"#, 2, model).is_err());
    }
}
