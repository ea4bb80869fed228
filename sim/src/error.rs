//! The simulator's error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// What can go wrong configuring or starting the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// Why the bind failed.
        source: std::io::Error,
    },
    /// The TLS certificate or key is unusable.
    #[error("tls: {0}")]
    Tls(String),
    /// The bound listener could not report its own address.
    #[error("cannot read the listener's local address: {0}")]
    LocalAddr(std::io::Error),
    /// A config value is outside its allowed range.
    #[error("invalid sim config field {field}: {reason}")]
    InvalidConfig {
        /// Dotted path of the offending field, e.g. `faults.reset`.
        field: String,
        /// What is wrong with it, including the offending value.
        reason: String,
    },
    /// A YAML config could not be parsed (syntax, unknown field, wrong type).
    #[error("cannot parse sim config: {0}")]
    ConfigParse(#[from] serde_norway::Error),
    /// The answer key file could not be read.
    #[error("cannot read answer key {path}: {source}")]
    AnswerKeyRead {
        /// The key file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// A line of the answer key is not a valid entry.
    #[error("answer key {path}:{line}: {message}")]
    AnswerKeyLine {
        /// The key file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// The answer key file holds no entries.
    #[error("answer key {0} has no entries")]
    AnswerKeyEmpty(PathBuf),
}

impl SimError {
    /// Shorthand for [`SimError::InvalidConfig`].
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        SimError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
