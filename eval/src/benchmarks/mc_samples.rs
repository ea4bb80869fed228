//! Multiple-choice samples: a question stem, lettered options and a gold label made into a
//! prompted sample, and the single-answer extraction of the benchmarks that ask one.

use serde_json::{Map, Value};

use super::{SampleParts, by_subset, messages};
use crate::mc;
use crate::sample::{DatasetArgs, EvalError, Sample};

/// One multiple-choice record as loaded.
pub(crate) struct Question {
    /// The question stem, `{question}` of the template.
    pub(crate) question: String,
    /// The option texts, labelled `A`, `B`, ... in the prompt.
    pub(crate) choices: Vec<String>,
    /// The gold label(s).
    pub(crate) gold: String,
    /// The sample's metadata.
    pub(crate) metadata: Map<String, Value>,
}

/// The sample `<subset>_<index>` of `q`, prompted with `template` ([`mc::prompt`]).
pub(crate) fn sample(
    benchmark: &'static str,
    template: &str,
    subset: String,
    index: usize,
    q: Question,
    args: &DatasetArgs,
) -> Result<Sample, EvalError> {
    let prompt = mc::prompt(template, &q.question, &q.choices);
    Ok(SampleParts {
        benchmark,
        subset,
        index,
        messages: messages(benchmark, prompt, args)?,
        gold: q.gold,
        choices: q.choices,
        metadata: q.metadata,
    }
    .build())
}

/// The zero-shot samples of `(subset, question)` items: grouped in `subsets` order, each subset
/// cut to `args.limit`, indexed from 0 within its subset.
pub(crate) fn zero_shot(
    benchmark: &'static str,
    template: &str,
    subsets: &[String],
    items: Vec<(String, Question)>,
    args: &DatasetArgs,
) -> Result<Vec<Sample>, EvalError> {
    let mut out = Vec::new();
    for (subset, questions) in by_subset(subsets, items, args.limit) {
        for (index, q) in questions.into_iter().enumerate() {
            out.push(sample(benchmark, template, subset.clone(), index, q, args)?);
        }
    }
    Ok(out)
}

/// The single answer of an English completion, under the parser the sample was loaded for.
pub(crate) fn extract_single(completion: &str, sample: &Sample) -> String {
    mc::extract_with(
        mc::parser_of(&sample.metadata),
        completion,
        sample.choices.len(),
        false,
    )
}

/// The single answer of a Chinese completion, under the parser the sample was loaded for.
pub(crate) fn extract_single_zh(completion: &str, sample: &Sample) -> String {
    mc::extract_zh_with(
        mc::parser_of(&sample.metadata),
        completion,
        sample.choices.len(),
        false,
    )
}
