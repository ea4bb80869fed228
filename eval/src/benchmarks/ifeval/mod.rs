//! IFEval (google-research `instruction_following_eval`, EvalScope's `ifeval`): 541 prompts,
//! each carrying verifiable instructions (25 kinds) that a response is checked against, in
//! strict and loose mode.
//!
//! Sample: the raw prompt as the only user message, the record as metadata, no gold.
//! Extraction: the (filtered) completion itself. Scores (EvalScope's names): `prompt_level_strict`
//! (main), `inst_level_strict`, `prompt_level_loose`, `inst_level_loose`; the report means them.
//! `extra_params.inst_level = "micro"` makes the instruction-level report numbers Google's and
//! lm-eval's micro ratio instead of EvalScope's mean of per-prompt ratios.
//!
//! Layout: [`loader`] (records → samples), [`registry`] (ids → checkers), the checker groups
//! ([`keywords`], [`language`], [`length`], [`content`], [`format`], [`combination`],
//! [`case`], [`startend`], [`punctuation`]), [`text`] (the reference's text libraries),
//! [`evaluate`] (strict/loose and metrics).

pub mod case;
pub mod combination;
pub mod content;
pub mod evaluate;
pub mod format;
pub mod keywords;
pub mod kwargs;
pub mod language;
pub mod length;
pub mod loader;
pub mod punctuation;
pub mod registry;
pub mod startend;
pub mod text;

use std::collections::BTreeMap;

use crate::sample::{Benchmark, BenchmarkMeta, DatasetArgs, EvalError, Sample, Score};

/// IFEval.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfEval;

impl Benchmark for IfEval {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: loader::NAME,
            pretty_name: "IFEval",
            task_type: "instruction_following",
            metrics: evaluate::METRICS.to_vec(),
            subsets: vec![loader::SUBSET.to_owned()],
            few_shot_num: 0,
            eval_split: "train",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        loader::load(args)
    }

    fn extract(&self, completion: &str, _sample: &Sample) -> String {
        completion.to_owned()
    }

    /// Metrics of the response; none when the sample's instructions cannot be built (as
    /// EvalScope, which logs the error and leaves the score empty).
    fn score(&self, extracted: &str, sample: &Sample) -> Score {
        let values = match loader::parse(&sample.metadata) {
            Ok(parsed) => evaluate::metrics(
                &parsed.checkers,
                extracted,
                loader::inst_level_of(&sample.metadata),
            ),
            Err(_) => BTreeMap::new(),
        };
        Score {
            extracted: extracted.to_owned(),
            values,
            main: evaluate::METRICS[0].to_owned(),
        }
    }
}
