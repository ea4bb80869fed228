//! Fuzz target `plan_yaml`: see `swarm_tests::fuzzing::plan_yaml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| swarm_tests::fuzzing::plan_yaml(data));
