//! What the simulated model says: token i is a fixed word followed by a space, so every content
//! delta is exactly one token and no text ever needs JSON escaping.

use crate::ReasoningMode;

/// The words answers are made of, cycled in order.
pub(crate) const WORDS: [&str; 32] = [
    "lorem ",
    "ipsum ",
    "dolor ",
    "sit ",
    "amet ",
    "consectetur ",
    "adipiscing ",
    "elit ",
    "sed ",
    "do ",
    "eiusmod ",
    "tempor ",
    "incididunt ",
    "ut ",
    "labore ",
    "et ",
    "dolore ",
    "magna ",
    "aliqua ",
    "enim ",
    "ad ",
    "minim ",
    "veniam ",
    "quis ",
    "nostrud ",
    "exercitation ",
    "ullamco ",
    "laboris ",
    "nisi ",
    "aliquip ",
    "ex ",
    "ea ",
];

/// The opening think tag (a token of its own in `think_tags` mode).
pub(crate) const THINK_OPEN: &str = "<think>";
/// The closing think tag (the last reasoning token in `think_tags` mode, if there are two or more).
pub(crate) const THINK_CLOSE: &str = "</think>";

/// Which field a token is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// `content` / `text`.
    Content,
    /// `reasoning_content`.
    Reasoning,
}

/// The text and channel of token `i` of an answer whose first `reasoning_tokens` tokens are
/// reasoning in `mode`.
pub(crate) fn token(i: u32, reasoning_tokens: u32, mode: ReasoningMode) -> (&'static str, Channel) {
    let word = WORDS[i as usize % WORDS.len()];
    if i >= reasoning_tokens {
        return (word, Channel::Content);
    }
    match mode {
        ReasoningMode::None => (word, Channel::Content),
        ReasoningMode::Field => (word, Channel::Reasoning),
        ReasoningMode::ThinkTags if i == 0 => (THINK_OPEN, Channel::Content),
        ReasoningMode::ThinkTags if i + 1 == reasoning_tokens => (THINK_CLOSE, Channel::Content),
        ReasoningMode::ThinkTags => (word, Channel::Content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_need_no_json_escaping() {
        for w in WORDS.iter().chain([THINK_OPEN, THINK_CLOSE].iter()) {
            assert_eq!(serde_json::to_string(w).unwrap(), format!("\"{w}\""));
        }
    }

    #[test]
    fn reasoning_layouts() {
        assert_eq!(
            token(0, 0, ReasoningMode::Field),
            ("lorem ", Channel::Content)
        );
        assert_eq!(
            token(1, 2, ReasoningMode::Field),
            ("ipsum ", Channel::Reasoning)
        );
        assert_eq!(
            token(2, 2, ReasoningMode::Field),
            ("dolor ", Channel::Content)
        );
        assert_eq!(
            token(0, 3, ReasoningMode::ThinkTags),
            (THINK_OPEN, Channel::Content)
        );
        assert_eq!(
            token(1, 3, ReasoningMode::ThinkTags),
            ("ipsum ", Channel::Content)
        );
        assert_eq!(
            token(2, 3, ReasoningMode::ThinkTags),
            (THINK_CLOSE, Channel::Content)
        );
        assert_eq!(
            token(3, 3, ReasoningMode::ThinkTags),
            ("sit ", Channel::Content)
        );
        assert_eq!(
            token(33, 0, ReasoningMode::None),
            ("ipsum ", Channel::Content)
        );
    }
}
