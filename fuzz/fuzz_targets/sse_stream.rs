//! Fuzz target `sse_stream`: see `swarm_tests::fuzzing::sse_stream`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| swarm_tests::fuzzing::sse_stream(data));
