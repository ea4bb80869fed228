//! End-to-end suite: one test binary for every file here.

mod app_browser;
mod app_http;
mod app_index;
mod app_pairs;
mod distributed;
mod eval_answer_key;
mod eval_code;
mod eval_collection;
mod eval_collection_code;
mod eval_collection_filters;
mod eval_run;
mod exit_codes;
mod fault_classes;
mod fuzz_regressions;
mod http2;
mod large_dataset;
mod multiprocess_mtls;
mod perf_cli;
mod plan_run;
mod plan_schema;
mod protocol;
mod report_html;
mod security;
mod stage_schemas;
mod think_eval;
mod think_llm_split;
