//! The swarm-sandbox integration suite: one test binary for every file here.

mod code_benchmarks;
mod sandbox_escapes;
mod sandbox_limits;
