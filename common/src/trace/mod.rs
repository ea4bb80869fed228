//! Trace replay (the Mooncake trace format, as AIPerf's `mooncake_trace` reads it): JSON lines
//! of `{timestamp (ms), input_length, output_length, hash_ids}`. Each line is one request sent
//! at `(timestamp − first timestamp) / speed` on the stage's clock, with a prompt of
//! `input_length` tokens built block by block from `hash_ids` (so requests that share leading
//! hash ids share an identical prompt prefix) and `max_tokens = output_length`.
//!
//! `entry`: one line, checked field by field; `reader`: the file read line by line (never whole);
//! `share`: which agent sends which line; `text`: the prompt of a line.

mod entry;
mod reader;
mod share;
mod text;

pub use entry::{TraceEntry, parse_line};
pub use reader::TraceReader;
pub use share::{TraceShare, split_trace};
pub use text::TraceTexts;

/// The dataset name a plan or `--dataset` gives a Mooncake trace.
pub const DATASET: &str = "mooncake_trace";

/// Tokens one hash id stands for (Mooncake's block size; AIPerf's default 512).
pub const BLOCK_TOKENS: u32 = 512;
