//! The `random` dataset: prompts of exact token lengths from random tokens, EvalScope-style.

mod fit;
mod pool;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{DatasetError, DatasetKind, DatasetSpec, LoadStats, PromptSink, system};
use crate::prompt::Prompt;
use crate::tokenize::TokenCounter;
use fit::Fitted;
use pool::TokenPool;

/// `spec.number` prompts, given to `sink` as they are made. Each is the shared prefix of `spec.prefix_length` tokens followed by a
/// length drawn uniformly from `[min_prompt_length, max_prompt_length]` (as EvalScope does, the
/// total is prefix plus drawn length). Every prompt's text encodes to exactly its `tokens`, and
/// its first `prefix_length` token ids are the same in every prompt.
pub(crate) fn generate(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    let tok = tokenizer.ok_or(DatasetError::TokenizerRequired {
        kind: DatasetKind::Random,
    })?;
    if spec.number == 0 {
        return Err(DatasetError::ZeroNumber);
    }
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut pool = TokenPool::new(tok)?;
    let lengths: Vec<usize> = (0..spec.number)
        .map(|_| rng.random_range(spec.min_prompt_length..=spec.max_prompt_length))
        .collect();
    let prefix = fit::fit(
        tok,
        &mut pool,
        &mut rng,
        &Fitted::default(),
        spec.prefix_length,
    )?;
    for extra in lengths {
        let Fitted { text, ids } = fit::fit(tok, &mut pool, &mut rng, &prefix, extra)?;
        let mut prompt = Prompt::text(text);
        prompt.tokens = Some(u32::try_from(ids.len()).unwrap_or(u32::MAX));
        if let Some(sys) = &spec.system_prompt {
            prompt = system::prepend(prompt, sys);
        }
        sink.push(prompt)?;
    }
    Ok(LoadStats {
        kept: spec.number,
        ..LoadStats::default()
    })
}
