//! The swarm-eval integration suite: one test binary (one link) for every file here.

mod eval_answer_key;
mod eval_benchmarks;
mod eval_code;
mod eval_collection;
mod eval_collection_code;
mod eval_collection_filters;
mod eval_defaults;
mod eval_defaults_few_shot;
mod eval_defaults_mcq;
mod eval_defaults_stats;
mod eval_filters;
mod eval_general;
mod eval_general_zh;
mod eval_ifeval;
mod eval_internals;
mod eval_mc;
mod eval_needle;
mod eval_parity;
mod eval_perf;
mod eval_report;
mod eval_think;
mod math_equivalence;
mod math_extract;
mod math_normalize;
mod math_parity;
mod math_proptest;
mod math_timing;
#[path = "../../../common/tests/suite/shared.rs"]
mod shared;
