//! Capability evaluation: benchmark records become [`Sample`]s, a model's completion is filtered,
//! an answer extracted and scored, and scores aggregate into EvalScope-style reports.
//!
//! A benchmark is one small module implementing [`Benchmark`]; the engine (agents generating,
//! the coordinator storing and reporting) never changes when one is added. Look benchmarks up
//! with [`registry::benchmark`], filter completions with [`filters::FilterChain`], aggregate
//! with [`report::build_report`].

pub mod answer_key;
pub mod benchmarks;
pub mod collection;
pub mod exec;
pub mod filters;
pub mod judge;
pub mod math;
pub mod mc;
pub mod perf;
pub mod registry;
pub mod report;
pub mod sample;
pub mod task;
pub mod think;

pub use report::{Aggregation, Report, ReportSpec, ScoredSample, build_report};
pub use sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};
