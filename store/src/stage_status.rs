//! How a stage ended, as its `summary.json` and `run.json` record it.

use serde::Serialize;

/// Whether a stage produced a result, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StageStatus {
    /// It ran and requests succeeded.
    Ok,
    /// No request succeeded.
    NoSuccess {
        /// Why: the top error classes with an example message each, or why nothing was sent.
        reason: String,
    },
    /// Every agent running it was lost before it finished.
    AgentsLost {
        /// What happened.
        reason: String,
    },
    /// It was cancelled before it finished.
    Cancelled,
}

impl StageStatus {
    /// The exit status this stage calls for.
    pub fn exit(&self) -> crate::outcome::Exit {
        use crate::outcome::Exit;
        match self {
            StageStatus::Ok => Exit::Ok,
            StageStatus::NoSuccess { .. } => Exit::NoSuccess,
            StageStatus::AgentsLost { .. } => Exit::AgentsLost,
            StageStatus::Cancelled => Exit::Cancelled,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            StageStatus::Ok => "ok".into(),
            StageStatus::NoSuccess { reason } => format!("FAILED: no successful request: {reason}"),
            StageStatus::AgentsLost { reason } => format!("FAILED: agents lost: {reason}"),
            StageStatus::Cancelled => "cancelled".into(),
        }
    }
}
