//! `--multi-turn`: how an agent runs whole conversations instead of single requests.

use serde::{Deserialize, Serialize};

/// The most turns a conversation may have (bounds the history an agent keeps per conversation).
pub const MAX_TURNS: usize = 1000;

/// The longest think time, seconds (a pause between turns, not a way to idle an agent).
pub const MAX_THINK_TIME_S: f64 = 3600.0;

/// A multi-turn shard's settings. Its prompts are [`crate::prompt::PromptBody::Conversation`]s;
/// `number` counts conversations, concurrency (or an open loop's arrivals) too. Turn `k` sends
/// the conversation's turns `0..=k` with the model's streamed answers between them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MultiTurnSpec {
    /// Seconds a conversation waits after an answer before sending its next turn (a user's
    /// think time; 0: at once, as EvalScope).
    #[serde(default)]
    pub think_time_s: f64,
}

impl MultiTurnSpec {
    /// Why the settings cannot run, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        let t = self.think_time_s;
        if !(t.is_finite() && (0.0..=MAX_THINK_TIME_S).contains(&t)) {
            return Err(format!(
                "think_time_s must be a number of seconds from 0 to {MAX_THINK_TIME_S}, got {t}"
            ));
        }
        Ok(())
    }
}
