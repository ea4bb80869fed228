//! Benchmarks scored by running the generated code: a sample passes (`acc` 1) iff a code runner
//! is there and the program passes its tests; scores aggregate as mean and pass@k.

use super::acc_score;
use crate::exec::{CodeRunner, ScoreContext};
use crate::report::Aggregation;
use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

/// A benchmark whose samples pass by running code; every one is a [`Benchmark`].
pub trait CodeBenchmark: Send + Sync {
    /// Static facts.
    fn meta(&self) -> BenchmarkMeta;
    /// Loads samples from `args.local_path` (subset filter and limit applied).
    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError>;
    /// The code in a (filtered) completion.
    fn extract_code(&self, completion: &str) -> String;
    /// True when `code` passes the sample's tests, run by `runner`.
    fn passes(&self, code: &str, sample: &Sample, runner: &dyn CodeRunner) -> bool;
}

impl<T: CodeBenchmark> Benchmark for T {
    fn meta(&self) -> BenchmarkMeta {
        CodeBenchmark::meta(self)
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        CodeBenchmark::load(self, args)
    }

    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        self.extract_code(completion)
    }

    /// Without a code runner nothing can run: the sample fails.
    fn score(&self, extracted: &str, _sample: &Sample) -> Score {
        acc_score(extracted, false)
    }

    fn score_in(&self, extracted: &str, sample: &Sample, ctx: &ScoreContext<'_>) -> Score {
        let passed = ctx
            .runner
            .is_some_and(|runner| self.passes(extracted, sample, runner));
        acc_score(extracted, passed)
    }

    fn runs_code(&self) -> bool {
        true
    }

    fn aggregation(&self) -> Aggregation {
        Aggregation::MeanAndPassAtK
    }
}
