//! The `coordinator` binary, compiled from its own `main` with the `otlp` feature of this crate
//! (`swarm-coordinator/otlp`): what `tests/tests/otlp.rs` runs. A binary of this crate is built
//! by `cargo test -p swarm-tests --features otlp` with exactly the test's features, into the same
//! target folder, so the test never runs a stale or export-less `coordinator`.
//!
//! coordinator/src/main.rs must stay a lone file (no `mod` of its own) for this to compile.

include!("../../../coordinator/src/main.rs");
