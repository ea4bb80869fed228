//! The simulator's error type.

use std::net::SocketAddr;

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
