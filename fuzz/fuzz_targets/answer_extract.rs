//! Fuzz target `answer_extract`: see `swarm_tests::fuzzing::answer_extract`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| swarm_tests::fuzzing::answer_extract(data));
