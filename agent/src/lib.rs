//! The swarmbench agent: an endpoint client that measures OpenAI-compatible requests and the
//! executors that run a shard of load against an endpoint.

pub mod client;
pub mod perf;
pub mod tls;
