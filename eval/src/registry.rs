//! Benchmarks by name.

use super::benchmarks::{
    aime, ceval, general_mcq, general_qa, gpqa, gsm8k, humaneval, ifeval, iquiz, live_code_bench,
    math_500, mmlu_pro, mmlu_redux,
};
use super::sample::{Benchmark, EvalError};

/// The names of all benchmarks, sorted.
pub fn names() -> Vec<&'static str> {
    vec![
        "aime24",
        "aime25",
        "ceval",
        "data_collection",
        "general_mcq",
        "general_qa",
        "gpqa_diamond",
        "gsm8k",
        "humaneval",
        "ifeval",
        "iquiz",
        "live_code_bench",
        "math_500",
        "mmlu_pro",
        "mmlu_redux",
        "needle_haystack",
    ]
}

/// The benchmark called `name`.
pub fn benchmark(name: &str) -> Result<Box<dyn Benchmark>, EvalError> {
    Ok(match name {
        "aime24" => Box::new(aime::AIME24),
        "aime25" => Box::new(aime::AIME25),
        "ceval" => Box::new(ceval::CEval),
        "data_collection" => Box::new(super::collection::DataCollection),
        "general_mcq" => Box::new(general_mcq::GeneralMcq),
        "general_qa" => Box::new(general_qa::GeneralQa),
        "gpqa_diamond" => Box::new(gpqa::GpqaDiamond),
        "gsm8k" => Box::new(gsm8k::Gsm8k),
        "humaneval" => Box::new(humaneval::HumanEval),
        "ifeval" => Box::new(ifeval::IfEval),
        "iquiz" => Box::new(iquiz::IQuiz),
        "live_code_bench" => Box::new(live_code_bench::LiveCodeBench),
        "math_500" => Box::new(math_500::Math500),
        "mmlu_pro" => Box::new(mmlu_pro::MmluPro),
        "mmlu_redux" => Box::new(mmlu_redux::MmluRedux),
        "needle_haystack" => Box::new(super::benchmarks::needle_haystack::NeedleHaystack),
        _ => {
            return Err(EvalError::UnknownBenchmark {
                name: name.to_owned(),
                known: names().join(", "),
            });
        }
    })
}
