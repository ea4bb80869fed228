//! The swarm-common integration suite: one test binary (one link) for every file here.

mod dataset_errors;
mod dataset_filter;
mod dataset_formats;
mod dataset_fuzz;
mod dataset_random;
mod dataset_sharegpt_real;
mod eval_answer_key;
mod eval_benchmarks;
mod eval_code;
mod eval_collection;
mod eval_collection_filters;
mod eval_filters;
mod eval_ifeval;
mod eval_internals;
mod eval_mc;
mod eval_parity;
mod eval_report;
mod eval_think;
mod math_equivalence;
mod math_extract;
mod math_normalize;
mod math_proptest;
mod math_timing;
mod split_shares;
mod tokenize_load;
mod wire_snapshot;
