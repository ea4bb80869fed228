//! The pre-flight probe: one tiny request (`max_tokens` 1) to the run's target, sent from this
//! agent because agents are what must reach it, classified so the user reads what to fix.

use std::time::Duration;

use swarm_common::metrics::ErrorClass;
use swarm_common::probe::{ProbeFailure, ProbeSpec, classify_status, classify_transport};
use swarm_common::prompt::Prompt;
use swarm_common::shard::GenParams;
use swarm_proto::{ProbeOutcome, ProbeResult};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use swarm_io::client::{EndpointClient, body};

/// Attempts when the server answers 5xx or 429 (a server with a few injected errors must not
/// fail the check); every other failure is final at once.
const ATTEMPTS: u32 = 3;
/// Pause between those attempts.
const PAUSE: Duration = Duration::from_millis(500);
/// Longest detail sent back.
const MAX_DETAIL: usize = 400;

fn outcome(f: ProbeFailure) -> ProbeOutcome {
    match f {
        ProbeFailure::Refused => ProbeOutcome::Refused,
        ProbeFailure::Dns => ProbeOutcome::Dns,
        ProbeFailure::Tls => ProbeOutcome::Tls,
        ProbeFailure::Timeout => ProbeOutcome::Timeout,
        ProbeFailure::Unauthorized => ProbeOutcome::Unauthorized,
        ProbeFailure::NotFound => ProbeOutcome::NotFound,
        ProbeFailure::ModelNotFound => ProbeOutcome::ModelNotFound,
        ProbeFailure::HttpError => ProbeOutcome::HttpError,
        ProbeFailure::BadResponse => ProbeOutcome::BadResponse,
        ProbeFailure::Other => ProbeOutcome::Other,
    }
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_DETAIL).collect()
}

/// Runs the probe `spec` and says how it went.
pub async fn run(probe_id: String, spec: ProbeSpec, cancel: &CancellationToken) -> ProbeResult {
    let t0 = Instant::now();
    let url = swarm_common::redact::redact_url(&spec.target.url);
    let result = |o: ProbeOutcome, status: u16, detail: String| ProbeResult {
        probe_id: probe_id.clone(),
        outcome: o as i32,
        http_status: u32::from(status),
        detail: cut(&detail),
        url: url.clone(),
        elapsed_us: t0.elapsed().as_micros() as u64,
    };
    let client = match EndpointClient::new(&spec.target, None, 1) {
        Ok(c) => c,
        Err(e) => return result(ProbeOutcome::Other, 0, e.to_string()),
    };
    let prompt = Prompt::text("hello");
    let params = GenParams {
        stream: spec.stream,
        max_tokens: Some(1),
        ..Default::default()
    };
    let Some(body) = body::encode_all(
        std::slice::from_ref(&prompt),
        spec.target.api,
        &spec.target.model,
        &params,
    )
    .pop() else {
        return result(ProbeOutcome::Other, 0, "cannot encode the probe".into());
    };
    let deadline = Duration::from_secs_f64(spec.deadline_s.clamp(0.1, 600.0));
    let attempts = async {
        let mut last = None;
        for attempt in 1..=ATTEMPTS {
            let rec = client
                .send(body.clone(), &format!("probe-{attempt}"), &prompt, cancel)
                .await;
            let detail = rec.error_detail.clone().unwrap_or_default();
            let failure = match rec.error {
                None => return (ProbeOutcome::Ok, rec.status, String::new()),
                Some(ErrorClass::Connect) | Some(ErrorClass::Other) => classify_transport(&detail),
                Some(ErrorClass::Reset) => ProbeFailure::Refused,
                Some(ErrorClass::Timeout) => ProbeFailure::Timeout,
                Some(ErrorClass::Http4xx) | Some(ErrorClass::Http5xx) => {
                    classify_status(rec.status, &detail)
                }
                Some(ErrorClass::StreamError) => match classify_status(404, &detail) {
                    ProbeFailure::ModelNotFound => ProbeFailure::ModelNotFound,
                    _ => ProbeFailure::BadResponse,
                },
                Some(ErrorClass::Malformed)
                | Some(ErrorClass::Truncated)
                | Some(ErrorClass::TooLarge) => ProbeFailure::BadResponse,
                Some(ErrorClass::Cancelled) => {
                    return (ProbeOutcome::Other, 0, "cancelled".to_string());
                }
            };
            let retry = rec.status >= 500 || rec.status == 429;
            last = Some((outcome(failure), rec.status, detail));
            if !retry || attempt == ATTEMPTS {
                break;
            }
            tokio::time::sleep(PAUSE).await;
        }
        last.unwrap_or((ProbeOutcome::Other, 0, "no attempt".into()))
    };
    match tokio::time::timeout(deadline, attempts).await {
        Ok((o, status, detail)) => result(o, status, detail),
        Err(_) => result(
            ProbeOutcome::Timeout,
            0,
            format!("no answer within {deadline:?}"),
        ),
    }
}
