//! Why a session ended without being drained or cancelled.

use std::time::Duration;

use crate::transport::{TransportError, error_chain};

/// What ended a session; every one of these is followed by a reconnect.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The channel could not be set up or dialed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The session call failed (an error status from the coordinator, or the connection
    /// failing under it, e.g. a TLS client certificate refused).
    #[error("session call failed: {code:?}: {message}")]
    Rejected {
        /// The gRPC status code.
        code: tonic::Code,
        /// Its message.
        message: String,
    },
    /// The coordinator refused the session (bad token, duplicate id, protocol mismatch).
    #[error("coordinator refused the session: {reason}")]
    Refused {
        /// The coordinator's reason.
        reason: String,
    },
    /// No Welcome (or Refused) arrived in time.
    #[error("no welcome from the coordinator within {0:?}")]
    HandshakeTimeout(Duration),
    /// The first message was neither Welcome nor Refused.
    #[error("coordinator's first message was {0}, expected welcome or refused")]
    UnexpectedFirst(&'static str),
    /// The coordinator ended the stream without a Drain.
    #[error("coordinator closed the session")]
    Closed,
    /// The stream broke.
    #[error("session stream broke: {code:?}: {message}")]
    Broken {
        /// The gRPC status code.
        code: tonic::Code,
        /// Its message.
        message: String,
    },
    /// Nothing arrived from the coordinator for too long.
    #[error("no message from the coordinator for {0:?}")]
    Silent(Duration),
    /// Our messages could not be sent (stream closed or stalled).
    #[error("cannot send to the coordinator: {0}")]
    Link(#[from] super::outbox::LinkDown),
}

impl SessionError {
    /// Whether the session got as far as a Welcome (the reconnect backoff starts over).
    pub fn after_welcome(&self) -> bool {
        matches!(
            self,
            SessionError::Closed
                | SessionError::Broken { .. }
                | SessionError::Silent(_)
                | SessionError::Link(_)
        )
    }

    pub(crate) fn broken(status: &tonic::Status) -> Self {
        SessionError::Broken {
            code: status.code(),
            message: status_detail(status),
        }
    }

    pub(crate) fn rejected(status: &tonic::Status) -> Self {
        SessionError::Rejected {
            code: status.code(),
            message: status_detail(status),
        }
    }
}

/// A status's message and the causes behind it (a transport failure says little on its own).
fn status_detail(status: &tonic::Status) -> String {
    match std::error::Error::source(status) {
        Some(src) => {
            let chain = error_chain(src);
            if chain.starts_with(status.message()) {
                chain
            } else {
                format!("{}: {chain}", status.message())
            }
        }
        None => status.message().to_string(),
    }
}
