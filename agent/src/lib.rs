//! The swarmbench agent: an endpoint client that measures OpenAI-compatible requests and the
//! executors that run a shard of load against an endpoint, and the session that takes shards
//! from a coordinator and streams their measurements back.

pub mod cli;
pub mod client;
pub mod nofile;
pub mod perf;
pub mod sandbox;
pub mod session;
pub mod signal;
pub mod telemetry;
pub mod tls;
pub mod transport;
