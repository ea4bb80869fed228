//! The pre-flight check: one tiny request to a target, sent by an agent before a run, and the
//! classification of what came back.

use serde::{Deserialize, Serialize};

use crate::shard::TargetSpec;

/// What a probe sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// The endpoint, as the run's shards will use it.
    pub target: TargetSpec,
    /// Whether the run streams (the probe asks the same way).
    pub stream: bool,
    /// Longest the probe may take, seconds.
    pub deadline_s: f64,
}

/// Why a probe failed, or that it did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeFailure {
    /// Connection refused or reset before an answer.
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// No answer within the deadline.
    Timeout,
    /// 401 or 403: the API key or headers are wrong.
    Unauthorized,
    /// 404: nothing serves the path tried.
    NotFound,
    /// The server says it does not serve the model.
    ModelNotFound,
    /// Another HTTP status.
    HttpError,
    /// A 2xx answer that is not the API's.
    BadResponse,
    /// Anything else.
    Other,
}

impl ProbeFailure {
    /// What the user should read first.
    pub fn describe(self) -> &'static str {
        match self {
            ProbeFailure::Refused => "connection refused",
            ProbeFailure::Dns => "host name not found",
            ProbeFailure::Tls => "TLS handshake failed",
            ProbeFailure::Timeout => "no answer in time",
            ProbeFailure::Unauthorized => "not authorized (check --api-key / --headers)",
            ProbeFailure::NotFound => "not found (check the URL's path)",
            ProbeFailure::ModelNotFound => "model not served (check --model)",
            ProbeFailure::HttpError => "error status",
            ProbeFailure::BadResponse => "not an OpenAI-compatible answer",
            ProbeFailure::Other => "request failed",
        }
    }
}

/// Classifies an HTTP error answer: status and (a bounded prefix of) its body.
pub fn classify_status(status: u16, body: &str) -> ProbeFailure {
    let lower = body.to_ascii_lowercase();
    let about_model = lower.contains("model")
        && (lower.contains("not found")
            || lower.contains("does not exist")
            || lower.contains("not exist")
            || lower.contains("unknown")
            || lower.contains("not served")
            || lower.contains("model_not_found"));
    match status {
        401 | 403 => ProbeFailure::Unauthorized,
        400 | 404 | 422 if about_model => ProbeFailure::ModelNotFound,
        404 => ProbeFailure::NotFound,
        _ => ProbeFailure::HttpError,
    }
}

/// Classifies a transport error from the text of its whole source chain.
pub fn classify_transport(chain: &str) -> ProbeFailure {
    let lower = chain.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
        || lower.contains("no address associated")
        || lower.contains("nodename nor servname")
    {
        ProbeFailure::Dns
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalidcontenttype")
    {
        ProbeFailure::Tls
    } else if lower.contains("connection refused")
        || lower.contains("connection reset")
        || lower.contains("refused")
    {
        ProbeFailure::Refused
    } else if lower.contains("timed out") || lower.contains("timeout") || lower.contains("deadline")
    {
        ProbeFailure::Timeout
    } else {
        ProbeFailure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_what_to_fix() {
        assert_eq!(classify_status(401, ""), ProbeFailure::Unauthorized);
        assert_eq!(
            classify_status(403, "forbidden"),
            ProbeFailure::Unauthorized
        );
        assert_eq!(
            classify_status(404, "404 page not found"),
            ProbeFailure::NotFound
        );
        assert_eq!(
            classify_status(
                404,
                r#"{"error":{"message":"The model `x` does not exist."}}"#
            ),
            ProbeFailure::ModelNotFound
        );
        assert_eq!(
            classify_status(400, r#"{"error":"model 'x' not found"}"#),
            ProbeFailure::ModelNotFound
        );
        assert_eq!(
            classify_status(500, "model crashed"),
            ProbeFailure::HttpError
        );
    }

    #[test]
    fn transport_errors_are_named() {
        assert_eq!(
            classify_transport(
                "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            ProbeFailure::Refused
        );
        assert_eq!(
            classify_transport(
                "dns error: failed to lookup address information: Name or service not known"
            ),
            ProbeFailure::Dns
        );
        assert_eq!(
            classify_transport("invalid peer certificate: UnknownIssuer"),
            ProbeFailure::Tls
        );
        assert_eq!(
            classify_transport("operation timed out"),
            ProbeFailure::Timeout
        );
    }
}
