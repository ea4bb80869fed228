//! The `random` dataset: prompts of exact token lengths from random tokens, EvalScope-style.

pub(crate) mod fit;
pub(crate) mod pool;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{DatasetError, DatasetKind, DatasetSpec, LoadStats, PromptSink, system};
use crate::prompt::{Prompt, PromptBody};
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
    let tok = tokenizer.ok_or(DatasetError::TokenizerRequired { kind: spec.kind })?;
    if spec.kind != DatasetKind::Random {
        return generate_retrieval(spec, tok, sink);
    }
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

/// `random_multi_turn` (EvalScope's plugin of that name): `spec.number` conversations, each of a
/// turn count drawn uniformly from `[max(1, min_turns), max_turns]`, every turn one user message
/// of a length drawn like `random`'s (the shared prefix, then `[min_prompt_length,
/// max_prompt_length]` tokens), encoding to exactly that many tokens.
pub(crate) fn generate_conversations(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    let tok = tokenizer.ok_or(DatasetError::TokenizerRequired { kind: spec.kind })?;
    if spec.number == 0 {
        return Err(DatasetError::ZeroNumber);
    }
    let min_turns = spec.min_turns.max(1);
    let max_turns = spec.max_turns.ok_or(DatasetError::Turns {
        message:
            "random_multi_turn needs --max-turns (max_turns): the most turns of a conversation"
                .into(),
    })?;
    if max_turns < min_turns {
        return Err(DatasetError::Turns {
            message: format!("--max-turns ({max_turns}) must be >= --min-turns ({min_turns})"),
        });
    }
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut pool = TokenPool::new(tok)?;
    let prefix = fit::fit(
        tok,
        &mut pool,
        &mut rng,
        &Fitted::default(),
        spec.prefix_length,
    )?;
    for _ in 0..spec.number {
        let n = rng.random_range(min_turns..=max_turns);
        let mut turns = Vec::with_capacity(n);
        let mut first_tokens = 0u32;
        for t in 0..n {
            let extra = rng.random_range(spec.min_prompt_length..=spec.max_prompt_length);
            let Fitted { text, ids } = fit::fit(tok, &mut pool, &mut rng, &prefix, extra)?;
            if t == 0 {
                first_tokens = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            }
            turns.push(vec![serde_json::json!({"role": "user", "content": text})]);
        }
        let mut prompt = Prompt {
            body: PromptBody::Conversation { turns },
            tokens: Some(first_tokens),
        };
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

/// `random_embedding`, `random_embedding_batch` and `random_rerank` (EvalScope's plugins of
/// those names): texts of a length drawn uniformly from `[min_prompt_length,
/// max_prompt_length]` (at least 1, no prefix), each encoding to exactly the drawn tokens.
/// `tokens` of a prompt is the sum over its texts.
fn generate_retrieval(
    spec: &DatasetSpec,
    tok: &dyn TokenCounter,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, DatasetError> {
    if spec.number == 0 {
        return Err(DatasetError::ZeroNumber);
    }
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut pool = TokenPool::new(tok)?;
    let (min, max) = (spec.min_prompt_length.max(1), spec.max_prompt_length.max(1));
    let mut text = |rng: &mut StdRng, len: usize| -> Result<(String, u32), DatasetError> {
        let Fitted { text, ids } = fit::fit(tok, &mut pool, rng, &Fitted::default(), len)?;
        Ok((text, u32::try_from(ids.len()).unwrap_or(u32::MAX)))
    };
    for _ in 0..spec.number {
        let prompt = match spec.kind {
            DatasetKind::RandomEmbeddingBatch => {
                let mut inputs = Vec::with_capacity(spec.batch_size);
                let mut tokens = 0u32;
                for _ in 0..spec.batch_size.max(1) {
                    let len = rng.random_range(min..=max);
                    let (t, n) = text(&mut rng, len)?;
                    inputs.push(serde_json::Value::from(t));
                    tokens = tokens.saturating_add(n);
                }
                let mut body = serde_json::Map::new();
                body.insert("input".into(), serde_json::Value::Array(inputs));
                Prompt {
                    body: PromptBody::Body { body },
                    tokens: Some(tokens),
                }
            }
            DatasetKind::RandomRerank => {
                let query_len = rng.random_range(min..=max);
                // EvalScope: int(query_len * ratio), at least 1
                let doc_len = ((query_len as f64 * spec.document_length_ratio) as usize).max(1);
                let (query, mut tokens) = text(&mut rng, query_len)?;
                let mut documents = Vec::with_capacity(spec.num_documents);
                for _ in 0..spec.num_documents {
                    let (d, n) = text(&mut rng, doc_len)?;
                    documents.push(serde_json::Value::from(d));
                    tokens = tokens.saturating_add(n);
                }
                let mut body = serde_json::Map::new();
                body.insert("query".into(), serde_json::Value::from(query));
                body.insert("documents".into(), serde_json::Value::Array(documents));
                Prompt {
                    body: PromptBody::Body { body },
                    tokens: Some(tokens),
                }
            }
            _ => {
                let len = rng.random_range(min..=max);
                let (t, n) = text(&mut rng, len)?;
                let mut prompt = Prompt::text(t);
                prompt.tokens = Some(n);
                prompt
            }
        };
        sink.push(prompt)?;
    }
    Ok(LoadStats {
        kept: spec.number,
        ..LoadStats::default()
    })
}
