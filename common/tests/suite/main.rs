//! The swarm-common integration suite: one test binary (one link) for every file here.

mod dataset_errors;
mod dataset_filter;
mod dataset_formats;
mod dataset_fuzz;
mod dataset_multi_turn;
mod dataset_random;
mod dataset_sharegpt_real;
mod dataset_stream;
mod shared;
mod split_shares;
mod tokenize_load;
mod wire_snapshot;
