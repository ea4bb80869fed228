//! How a command ended: the exit-status contract of `perf`, `eval` and `run`, and the typed
//! failure that carries a status through `anyhow` to `main`.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | every stage ran and had successful requests (every eval benchmark scored samples) |
//! | 1 | an internal error (I/O, a bug): the message says what |
//! | 2 | a usage error: a bad flag, plan or dataset |
//! | 3 | a target is unreachable: the pre-flight request failed |
//! | 4 | a stage had no successful request, or an eval had no successful sample |
//! | 5 | agents: none joined in time, or every agent of a stage was lost |
//! | 99 | a threshold (`--threshold`, a plan's `thresholds:`) failed (k6's status) |
//! | 130 | the run was cancelled (Ctrl-C, SIGTERM); what was measured is written |

use serde::Serialize;

/// The exit statuses, as documented above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// 0.
    Ok,
    /// 1.
    Internal,
    /// 2.
    Usage,
    /// 3.
    Unreachable,
    /// 4.
    NoSuccess,
    /// 5.
    AgentsLost,
    /// 99.
    ThresholdFailed,
    /// 130.
    Cancelled,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Internal => 1,
            Exit::Usage => 2,
            Exit::Unreachable => 3,
            Exit::NoSuccess => 4,
            Exit::AgentsLost => 5,
            Exit::ThresholdFailed => 99,
            Exit::Cancelled => 130,
        }
    }

    /// The name `run.json` gives it (`no_success`, `agents_lost`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Internal => "internal",
            Exit::Usage => "usage",
            Exit::Unreachable => "unreachable",
            Exit::NoSuccess => "no_success",
            Exit::AgentsLost => "agents_lost",
            Exit::ThresholdFailed => "threshold_failed",
            Exit::Cancelled => "cancelled",
        }
    }

    /// The worse of two outcomes (the one a script should see).
    pub fn worst(self, other: Exit) -> Exit {
        let rank = |e: Exit| match e {
            Exit::Ok => 0,
            Exit::ThresholdFailed => 1,
            Exit::NoSuccess => 2,
            Exit::AgentsLost => 3,
            Exit::Unreachable => 4,
            Exit::Usage => 5,
            Exit::Internal => 6,
            Exit::Cancelled => 7,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// A failure with its exit status; `main` finds it anywhere in an error's chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The status the process ends with.
    pub exit: Exit,
    /// What failed and why.
    pub message: String,
}

impl Failure {
    /// A failure with status `exit`.
    pub fn error(exit: Exit, message: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Failure {
            exit,
            message: message.into(),
        })
    }

    /// `e` as a usage error (unless it already carries a status).
    pub fn usage(e: anyhow::Error) -> anyhow::Error {
        if e.chain().any(|c| c.is::<Failure>()) {
            return e;
        }
        let message = format!("{e:#}");
        Failure::error(Exit::Usage, message)
    }
}

/// The exit status an error ends the process with: the first [`Failure`] in its chain, else
/// an internal error.
pub fn exit_of(e: &anyhow::Error) -> Exit {
    e.chain()
        .find_map(|c| c.downcast_ref::<Failure>().map(|f| f.exit))
        .unwrap_or(Exit::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_status_survives_context() {
        let e: anyhow::Result<()> = Err(Failure::error(Exit::Unreachable, "refused"));
        let e = e.context("workload w").unwrap_err();
        assert_eq!(exit_of(&e), Exit::Unreachable);
        assert_eq!(exit_of(&anyhow::anyhow!("io")), Exit::Internal);
        assert_eq!(
            exit_of(&Failure::usage(anyhow::anyhow!("bad flag"))),
            Exit::Usage
        );
        assert_eq!(
            exit_of(&Failure::usage(Failure::error(Exit::NoSuccess, "x"))),
            Exit::NoSuccess
        );
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            Exit::Ok,
            Exit::Internal,
            Exit::Usage,
            Exit::Unreachable,
            Exit::NoSuccess,
            Exit::AgentsLost,
            Exit::ThresholdFailed,
            Exit::Cancelled,
        ];
        let mut codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(Exit::Ok.worst(Exit::NoSuccess), Exit::NoSuccess);
        assert_eq!(Exit::AgentsLost.worst(Exit::NoSuccess), Exit::AgentsLost);
    }
}
