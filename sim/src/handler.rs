//! Routing and answering one HTTP request.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use tokio::time::Instant;

use crate::abort::Abort;
use crate::answer::{answer_body, malformed_body};
use crate::body::{OnceBody, SimBody};
use crate::conn::ResetSwitch;
use crate::dribble::DribbleBody;
use crate::openai::{GenerateRequest, error_body, last_user_content};
use crate::plan::{Endpoint, Plan};
use crate::script::Script;
use crate::server::Shared;
use crate::sse::EventWriter;
use crate::stream::StreamBody;
use crate::truth::TruthRecorder;
use crate::{FAULT_HEADER, Fault};

/// Largest accepted request body.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// The request header whose value keys the truth log (and is echoed back).
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Answers one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    reset: ResetSwitch,
    req: Request<Incoming>,
) -> Response<SimBody> {
    let post = req.method() == Method::POST;
    let get = req.method() == Method::GET;
    match req.uri().path() {
        "/v1/chat/completions" if post => generate(&shared, reset, req, Endpoint::Chat).await,
        "/v1/completions" if post => generate(&shared, reset, req, Endpoint::Completion).await,
        "/v1/responses" if post => generate(&shared, reset, req, Endpoint::Responses).await,
        "/v1/embeddings" if post => {
            crate::retrieval::handle(&shared, req, crate::retrieval::Api::Embeddings).await
        }
        "/v1/rerank" | "/v1/reranks" if post => {
            crate::retrieval::handle(&shared, req, crate::retrieval::Api::Rerank).await
        }
        "/v1/models" if get => json(StatusCode::OK, SimBody::full(shared.models.clone())),
        "/health" if get => Response::new(SimBody::empty()),
        path @ ("/v1/chat/completions"
        | "/v1/completions"
        | "/v1/responses"
        | "/v1/embeddings"
        | "/v1/rerank"
        | "/v1/reranks"
        | "/v1/models"
        | "/health") => error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("method {} not allowed on {path}", req.method()),
            "invalid_request_error",
        ),
        path => error(
            StatusCode::NOT_FOUND,
            &format!("no route for {} {path}", req.method()),
            "not_found_error",
        ),
    }
}

/// A chat or text completion.
async fn generate(
    shared: &Arc<Shared>,
    reset: ResetSwitch,
    req: Request<Incoming>,
    endpoint: Endpoint,
) -> Response<SimBody> {
    let received = std::time::Instant::now();
    let mut t0 = Instant::now();

    let forced = match req.headers().get(FAULT_HEADER) {
        None => None,
        Some(value) => match String::from_utf8_lossy(value.as_bytes()).parse::<Fault>() {
            Ok(fault) => Some(fault),
            Err(e) => return bad_request(&e.to_string()),
        },
    };
    let request_id = req.headers().get(REQUEST_ID).cloned();

    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body exceeds {MAX_BODY} bytes"),
                "invalid_request_error",
            );
        }
        Err(e) => return bad_request(&format!("cannot read request body: {e}")),
    };
    let parsed = match GenerateRequest::parse(&body) {
        Ok(parsed) => parsed,
        Err(e) => return bad_request(&format!("invalid request body: {e}")),
    };
    let request = shared.next_request();
    let plan = match Plan::new(&shared.config, endpoint, request, &parsed, forced) {
        Ok(plan) => plan,
        Err(message) => return bad_request(&message),
    };
    let plan = match keyed_answer(shared, endpoint, &body) {
        Some(script) => plan.scripted(script, &shared.config, parsed.max_tokens()),
        None => plan,
    };
    let plan = match (&shared.prefix_cache, endpoint) {
        (Some(cache), Endpoint::Chat) => cached(cache, &shared.config, plan, &body),
        _ => plan,
    };

    let truth = shared.config.record_truth.then(|| {
        let id = match &request_id {
            Some(v) => String::from_utf8_lossy(v.as_bytes()).into_owned(),
            None => plan.id.clone(),
        };
        TruthRecorder::new(shared.truth.clone(), id, received)
            .with_prompt_tokens(u64::from(plan.prompt_tokens))
    });

    let plan_fault = plan.fault;
    let mut response = match plan.fault {
        Fault::Hang => {
            let max = Duration::from_millis(shared.config.faults.stall_max_ms);
            tokio::select! {
                () = tokio::time::sleep(max) => {}
                () = shared.cancel.cancelled() => {}
            }
            error(
                StatusCode::GATEWAY_TIMEOUT,
                "simulated hang ended",
                "server_error",
            )
        }
        Fault::RateLimit => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "simulated rate limit",
                "rate_limit_error",
            );
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Fault::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "simulated internal error",
            "server_error",
        ),
        _ => {
            // with a capacity, queue for a generation slot; the answer's clock starts once in
            let slot = shared.generation_slot().await;
            if slot.is_some() {
                t0 = Instant::now();
            }
            let model_json = shared.model_json(parsed.model.as_deref());
            let created = unix_now();
            if plan.stream {
                let events = EventWriter::new(&plan, &model_json, created);
                let body =
                    StreamBody::new(shared.clone(), plan, events, reset, t0, truth).holding(slot);
                let mut r = Response::new(SimBody::Stream(Box::new(body)));
                let headers = r.headers_mut();
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                r
            } else {
                let answered = answer(shared, plan, reset, t0, &model_json, created, truth).await;
                drop(slot);
                answered
            }
        }
    };
    if plan_fault == Fault::SlowLoris {
        let every = Duration::from_millis(shared.config.faults.dribble_ms.max(1));
        response = response.map(|body| SimBody::Dribble(Box::new(DribbleBody::new(body, every))));
    }
    if let Some(id) = request_id {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

/// `plan` served through the prefix cache: its cached tokens, and a time to first token
/// without their share (`ttft_per_prompt_token_us` each).
fn cached(
    cache: &crate::prefix_cache::PrefixCache,
    config: &crate::SimConfig,
    mut plan: Plan,
    body: &[u8],
) -> Plan {
    #[derive(serde::Deserialize)]
    struct Chat {
        #[serde(default)]
        messages: Vec<serde_json::Value>,
    }
    let Ok(chat) = serde_json::from_slice::<Chat>(body) else {
        return plan;
    };
    let prefixes = crate::prefix_cache::chain(&chat.messages, crate::openai::words);
    // a generated answer's text is known now: the cycled words (no reasoning, no script)
    let answer = (plan.script.is_none()
        && plan.reasoning == crate::ReasoningMode::None
        && plan.fault == Fault::None)
        .then(|| {
            let text: String = (0..plan.completion_tokens)
                .map(|i| crate::vocab::WORDS[i as usize % crate::vocab::WORDS.len()])
                .collect();
            let last = prefixes.last().map_or(0, |p| p.hash);
            crate::prefix_cache::link(last, "assistant", &text)
        });
    let hit = cache.serve(&prefixes, answer);
    plan.cached_tokens = u32::try_from(hit)
        .unwrap_or(u32::MAX)
        .min(plan.prompt_tokens);
    let saved_us = config.latency.ttft_per_prompt_token_us * f64::from(plan.cached_tokens);
    plan.ttft = plan
        .ttft
        .saturating_sub(Duration::from_secs_f64((saved_us / 1e6).max(0.0)));
    plan
}

/// The answer key's answer to a chat request whose last user message is a keyed question, or
/// its verdict on a judge prompt about a keyed answer (`crate::judge`).
fn keyed_answer(shared: &Shared, endpoint: Endpoint, body: &[u8]) -> Option<Script> {
    let key = shared.answer_key.as_ref()?;
    if endpoint != Endpoint::Chat {
        return None;
    }
    let content = last_user_content(body)?;
    let sha = crate::prompt_sha256(&content);
    let Some(text) = key.answer(&sha) else {
        // the judge role: a judge prompt about a keyed answer gets the key's verdict
        let reply = crate::judge::verdict(key, &content)?;
        return Some(Script::new(&reply, shared.config.reasoning.mode));
    };
    match (&shared.config.reasoning.thoughts, key.texts(&sha)) {
        (Some(thoughts), Some((correct, right, wrong))) => {
            let paragraphs = crate::reasoning_paragraphs(thoughts, right, wrong, correct);
            let text = crate::with_thinking(&paragraphs, text);
            Some(Script::new(&text, shared.config.reasoning.mode))
        }
        _ => Some(Script::new(text, shared.config.reasoning.mode)),
    }
}

/// A non-streamed answer, sent when its last token would have been generated.
async fn answer(
    shared: &Shared,
    mut plan: Plan,
    reset: ResetSwitch,
    t0: Instant,
    model_json: &str,
    created: u64,
    truth: Option<TruthRecorder>,
) -> Response<SimBody> {
    let mut due = t0 + plan.ttft;
    if !shared.config.latency.itl_ms.is_zero() {
        for _ in 1..plan.completion_tokens {
            due += plan.next_itl(&shared.config) + shared.batch_itl();
        }
    }
    tokio::time::sleep_until(due).await;

    let full = answer_body(&plan, model_json, created);
    let half = full.slice(..full.len() / 2);
    let stall = Duration::from_millis(shared.config.faults.stall_max_ms);
    let (data, carries_tokens, then) = match plan.fault {
        Fault::Reset => (half, false, Some(Abort::reset(reset))),
        Fault::Stall => (
            half,
            false,
            Some(Abort::stall(reset, stall, &shared.cancel)),
        ),
        Fault::Malformed => (malformed_body(&plan), false, None),
        Fault::Truncate => (half, false, None),
        Fault::StreamError => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "simulated overload",
                "server_error",
            );
        }
        Fault::None | Fault::RateLimit | Fault::ServerError | Fault::Hang | Fault::SlowLoris => {
            (full, true, None)
        }
    };
    let body = if then.is_none() && truth.is_none() {
        SimBody::full(data)
    } else {
        SimBody::Once(Box::new(OnceBody::new(data, carries_tokens, then, truth)))
    };
    json(StatusCode::OK, body)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn json(status: StatusCode, body: SimBody) -> Response<SimBody> {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn error(status: StatusCode, message: &str, kind: &str) -> Response<SimBody> {
    json(
        status,
        SimBody::full(error_body(message, kind, status.as_u16())),
    )
}

fn bad_request(message: &str) -> Response<SimBody> {
    error(StatusCode::BAD_REQUEST, message, "invalid_request_error")
}
