//! Fuzz target `agent_message`: see `swarm_tests::fuzzing::agent_message`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| swarm_tests::fuzzing::agent_message(data));
