//! Where a request's token counts come from: the server's usage, else the run's tokenizer,
//! else one token per text chunk (flagged as an estimate).

use swarm_common::metrics::TokenSource;
use swarm_common::prompt::Prompt;
use swarm_common::tokenize::TokenCounter;

use super::meter::Meter;

/// (prompt, completion, reasoning, cached, source)
pub(super) fn resolve(
    meter: &Meter,
    prompt: &Prompt,
    tokenizer: Option<&dyn TokenCounter>,
) -> (u32, u32, u32, u32, TokenSource) {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    let count_prompt = |t: &dyn TokenCounter| {
        prompt
            .tokens
            .unwrap_or_else(|| clamp(t.count(&prompt.plain_text()) as u64))
    };
    if let Some(u) = meter.usage.filter(|u| u.completion_tokens.is_some()) {
        let prompt_tokens = match u.prompt_tokens {
            Some(p) => clamp(p),
            None => prompt
                .tokens
                .or_else(|| tokenizer.map(count_prompt))
                .unwrap_or(0),
        };
        return (
            prompt_tokens,
            clamp(u.completion_tokens.unwrap_or(0)),
            clamp(
                u.completion_tokens_details
                    .and_then(|d| d.reasoning_tokens)
                    .unwrap_or(0),
            ),
            clamp(
                u.prompt_tokens_details
                    .and_then(|d| d.cached_tokens)
                    .unwrap_or(0),
            ),
            TokenSource::Usage,
        );
    }
    if let Some(t) = tokenizer {
        let reasoning = clamp(t.count(&meter.reasoning) as u64);
        let answer = clamp(t.count(&meter.answer) as u64);
        return (
            count_prompt(t),
            reasoning + answer,
            reasoning,
            0,
            TokenSource::Tokenizer,
        );
    }
    let chunks = clamp(meter.chunk_us.len() as u64);
    (
        prompt.tokens.unwrap_or(0),
        chunks,
        0,
        0,
        TokenSource::Unknown,
    )
}
