//! `llm-sim`: a simulated OpenAI-compatible model server for load-testing swarmbench itself.
//!
//! It answers `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models` and
//! `GET /health` over HTTP/1.1 with keep-alive. Answers follow a seeded latency model (time to
//! first token, inter-token gaps), have configurable lengths and simulated reasoning, and can
//! be made to fail in realistic ways (429, 500, connection reset, stall, malformed or truncated
//! streams, error events), by probability or per request with the `x-sim-fault` header. With
//! `record_truth` the server logs when it sent every chunk, so a client's measurements can be
//! checked against the server's own clock. With an [`AnswerKey`] it answers benchmark
//! questions right or wrong in a chosen proportion, so an eval against it has a known score.
//!
//! ```no_run
//! # async fn demo() -> Result<(), llm_sim::SimError> {
//! let cancel = tokio_util::sync::CancellationToken::new();
//! let bind = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
//! let sim = llm_sim::start(llm_sim::SimConfig::instant(), bind, cancel).await?;
//! println!("{}/v1/chat/completions", sim.url());
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod abort;
mod answer;
mod answer_key;
mod body;
pub mod cli;
mod config;
mod conn;
mod dist;
mod dribble;
mod error;
mod faults;
mod handler;
mod image;
mod judge;
mod openai;
mod plan;
mod prefix_cache;
mod retrieval;
mod script;
mod server;
mod sha256;
mod sse;
mod stream;
mod thoughts;
mod truth;
mod vocab;

pub use answer_key::{AnswerKey, answers_correctly, exact_count, prompt_sha256, question_hash};
pub use config::{
    AnswerKeyConfig, AnswerSelection, CONFIG_VERSION, CapacityConfig, FaultConfig, LatencyConfig,
    OutputConfig, ReasoningConfig, ReasoningMode, SimConfig,
};
pub use dist::Dist;
pub use error::SimError;
pub use faults::{FAULT_HEADER, Fault, UnknownFault};
pub use prefix_cache::PrefixCacheConfig;
pub use server::{MAX_CONCURRENT_STREAMS, SimHandle, SimTls, serve, start, start_with};
pub use thoughts::{ThoughtsConfig, final_answer, reasoning_paragraphs, with_thinking};
pub use truth::{TruthEntry, TruthLog};
