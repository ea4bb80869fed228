//! Fuzz target `dataset_lines`: see `swarm_tests::fuzzing::dataset_lines`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| swarm_tests::fuzzing::dataset_lines(data));
