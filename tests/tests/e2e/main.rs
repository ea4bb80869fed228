//! End-to-end suite: one test binary for every file here.

mod distributed;
mod eval_answer_key;
mod eval_collection;
mod eval_run;
mod fault_classes;
mod multiprocess_mtls;
mod perf_cli;
mod plan_run;
mod plan_schema;
mod think_eval;
