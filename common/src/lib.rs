//! The shared vocabulary of swarmbench: what a shard is, how arrivals are scheduled, what a
//! request measured and how measurements aggregate into EvalScope-compatible summaries, and how
//! load datasets turn into prompts. No sockets here; the only I/O is reading files it is handed.

pub mod dataset;
pub mod goodput;
pub mod lines;
pub mod metrics;
pub mod multi_turn;
pub mod probe;
pub mod prompt;
pub mod prompt_slice;
pub mod pyround;
pub mod ramp;
pub mod redact;
pub mod schedule;
pub mod shard;
pub mod split;
pub mod tokenize;
pub mod trace;
pub mod wire;
