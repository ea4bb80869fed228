//! A scripted answer: fixed text (from an answer key) cut into the pieces the simulator streams
//! as tokens, each already escaped for a JSON string.
//!
//! A piece is a run of non-whitespace with the whitespace after it (whitespace before the first
//! word rides with it), so the pieces put together are the text exactly. A leading
//! `<think>…</think>` section is reasoning: in `field` mode its inner text goes to
//! `reasoning_content` (without the tags) and the rest to `content`; in the other modes the whole
//! text is content, tags included. Either way its pieces count as reasoning tokens.

use crate::ReasoningMode;
use crate::vocab::{Channel, THINK_CLOSE, THINK_OPEN};

/// The pieces of one scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Script {
    /// JSON-escaped text of each piece and where it is sent; reasoning pieces come first.
    pieces: Vec<(Box<str>, Channel)>,
    /// How many of the first pieces are reasoning.
    reasoning: u32,
}

impl Script {
    /// The script of `text` under reasoning `mode`. Never empty: text with no pieces is sent as
    /// one (possibly empty) piece.
    pub fn new(text: &str, mode: ReasoningMode) -> Self {
        let mut pieces = Vec::new();
        let reasoning = match think_section(text) {
            Some(section) if mode == ReasoningMode::Field => {
                push(&mut pieces, section.inner.trim(), Channel::Reasoning);
                let reasoning = pieces.len();
                push(&mut pieces, section.rest, Channel::Content);
                reasoning
            }
            Some(section) => {
                push(&mut pieces, section.whole, Channel::Content);
                let reasoning = pieces.len();
                push(&mut pieces, section.rest, Channel::Content);
                reasoning
            }
            None => {
                push(&mut pieces, text, Channel::Content);
                0
            }
        };
        if pieces.is_empty() {
            pieces.push((escape(text), Channel::Content));
        }
        Script {
            reasoning: u32::try_from(reasoning).unwrap_or(u32::MAX),
            pieces,
        }
    }

    /// Number of pieces (tokens), at least 1.
    pub fn len(&self) -> u32 {
        u32::try_from(self.pieces.len()).unwrap_or(u32::MAX)
    }

    /// How many of the first pieces are reasoning.
    pub fn reasoning(&self) -> u32 {
        self.reasoning
    }

    /// Piece `i` (JSON-escaped) and its channel.
    pub fn piece(&self, i: u32) -> (&str, Channel) {
        let (text, channel) = &self.pieces[i as usize];
        (text, *channel)
    }
}

/// A leading `<think>…</think>` section of a text.
struct ThinkSection<'a> {
    /// The section: leading whitespace, tags and the whitespace after the closing tag.
    whole: &'a str,
    /// Between the tags.
    inner: &'a str,
    /// After the section.
    rest: &'a str,
}

fn think_section(text: &str) -> Option<ThinkSection<'_>> {
    let body = text.trim_start().strip_prefix(THINK_OPEN)?;
    let end = body.find(THINK_CLOSE)?;
    let rest = body[end + THINK_CLOSE.len()..].trim_start();
    Some(ThinkSection {
        whole: &text[..text.len() - rest.len()],
        inner: &body[..end],
        rest,
    })
}

fn push(out: &mut Vec<(Box<str>, Channel)>, text: &str, channel: Channel) {
    out.extend(words(text).into_iter().map(|w| (escape(w), channel)));
}

/// `text` cut after each run of whitespace that follows a word.
fn words(text: &str) -> Vec<&str> {
    let mut start = 0;
    let mut seen_word = false;
    let mut prev_space = false;
    let mut cuts = Vec::new();
    for (i, c) in text.char_indices() {
        let space = c.is_whitespace();
        if !space && prev_space && seen_word {
            cuts.push(&text[start..i]);
            start = i;
        }
        seen_word |= !space;
        prev_space = space;
    }
    if start < text.len() {
        cuts.push(&text[start..]);
    }
    cuts
}

/// `text` as the inside of a JSON string literal.
fn escape(text: &str) -> Box<str> {
    let quoted = serde_json::Value::from(text).to_string();
    quoted[1..quoted.len() - 1].into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &Script) -> Vec<(String, Channel)> {
        (0..s.len())
            .map(|i| {
                let (t, c) = s.piece(i);
                (
                    serde_json::from_str::<String>(&format!("\"{t}\"")).unwrap(),
                    c,
                )
            })
            .collect()
    }

    fn joined(s: &Script) -> String {
        texts(s).into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn pieces_rebuild_the_text_exactly() {
        for text in [
            "The answer is \\boxed{42}.",
            "  lead\n\ntrail  ",
            "答案：B",
            "quote \" and\ttab\u{1}",
            "",
            "one",
        ] {
            let s = Script::new(text, ReasoningMode::None);
            assert_eq!(joined(&s), text);
            assert!(s.len() >= 1);
            assert_eq!(s.reasoning(), 0);
        }
        let s = Script::new("  a b\n c", ReasoningMode::None);
        let t: Vec<String> = texts(&s).into_iter().map(|(t, _)| t).collect();
        assert_eq!(t, ["  a ", "b\n ", "c"]);
    }

    #[test]
    fn think_section_counts_as_reasoning() {
        let text = "<think>\nstep one, step two\n</think>\n\nANSWER: C";
        let s = Script::new(text, ReasoningMode::ThinkTags);
        assert_eq!(joined(&s), text);
        assert_eq!(s.reasoning(), 6, "{:?}", texts(&s));
        assert_eq!(texts(&s)[5].0, "</think>\n\n");
        assert!(texts(&s).iter().all(|(_, c)| *c == Channel::Content));

        let s = Script::new(text, ReasoningMode::Field);
        let t = texts(&s);
        assert_eq!(s.reasoning(), 4);
        let reasoning: String = t[..4].iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(reasoning, "step one, step two");
        assert!(t[..4].iter().all(|(_, c)| *c == Channel::Reasoning));
        let content: String = t[4..].iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(content, "ANSWER: C");
        assert!(t[4..].iter().all(|(_, c)| *c == Channel::Content));

        // An unclosed tag is not a section.
        let s = Script::new("<think> no end", ReasoningMode::Field);
        assert_eq!(s.reasoning(), 0);
        assert_eq!(joined(&s), "<think> no end");
    }
}
