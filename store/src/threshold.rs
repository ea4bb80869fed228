//! A threshold checked against one stage, as `run.json` records it.

use serde::Serialize;

/// One threshold checked against one stage.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Checked {
    /// The threshold as written.
    pub threshold: String,
    /// The stage's value (null without data).
    pub value: Option<f64>,
    /// Whether it held.
    pub pass: bool,
}
