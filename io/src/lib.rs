//! The I/O both binaries share: the endpoint client that measures OpenAI-compatible requests
//! (agents' perf executor, the coordinator's judge), the process-wide TLS provider, the
//! open-file limit, signal handling and telemetry (console log, OTLP export).

pub mod client;
pub mod nofile;
pub mod signal;
pub mod telemetry;
pub mod tls;
