//! The perf executor: runs one shard's load (closed or open loop) and streams every request's
//! record to a sink.

mod closed_loop;
mod context;
mod conversation;
mod executor;
mod open_loop;
pub mod pacer;
pub mod trace;

pub use executor::{ExecError, ShardEvent, ShardOutcome, StopReason, run_shard};
pub use trace::{TraceLines, run_trace_shard};
