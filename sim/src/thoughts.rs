//! Simulated reasoning with sub-thoughts: for an answer-key question, a thinking section of
//! `paragraphs` paragraphs separated by blank lines, every paragraph after the first opening
//! with a switch phrase ("Alternatively,", "But wait,", ...), the correct answer's final line
//! first appearing in paragraph `first_correct` (1-based) when the question is answered
//! correctly. Earlier paragraphs float the wrong answer; later ones repeat the correct one. A
//! wrongly answered question never reaches the correct answer. Filler words hold no digits and
//! no switch phrase, so the true reasoning length, first-correct position and thought count of
//! every answer are known exactly.

use serde::{Deserialize, Serialize};

use crate::SimError;

/// Where the correct answer first appears in simulated reasoning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThoughtsConfig {
    /// Paragraphs of reasoning (m >= 1).
    pub paragraphs: u32,
    /// The paragraph (1-based) where the correct answer first appears; 0: never.
    pub first_correct: u32,
    /// Filler words per paragraph.
    #[serde(default = "default_words")]
    pub words: u32,
}

fn default_words() -> u32 {
    12
}

impl ThoughtsConfig {
    pub(crate) fn validate(&self) -> Result<(), SimError> {
        if self.paragraphs == 0 || self.paragraphs > 1000 {
            return Err(SimError::invalid(
                "reasoning.thoughts.paragraphs",
                format!("must be in 1..=1000, got {}", self.paragraphs),
            ));
        }
        if self.first_correct > self.paragraphs {
            return Err(SimError::invalid(
                "reasoning.thoughts.first_correct",
                format!(
                    "must be at most paragraphs ({}), got {}",
                    self.paragraphs, self.first_correct
                ),
            ));
        }
        if self.words > 10_000 {
            return Err(SimError::invalid(
                "reasoning.thoughts.words",
                format!("must be at most 10000, got {}", self.words),
            ));
        }
        Ok(())
    }
}

/// The openers of paragraphs 2, 3, ... in turn; each holds exactly one switch phrase.
pub const OPENERS: [&str; 7] = [
    "Alternatively,",
    "But wait,",
    "Let me reconsider:",
    "Another way to see it:",
    "Another approach:",
    "Another method:",
    "Another angle:",
];

/// Filler words (no digits, no switch phrase).
const FILLER: [&str; 8] = [
    "consider", "the", "given", "relation", "and", "simplify", "each", "term",
];

/// The final line of an answer text: from its last `\boxed{` to the matching brace, else its
/// last non-empty line.
pub fn final_answer(text: &str) -> String {
    let body = match text.find("</think>") {
        Some(end) => &text[end + "</think>".len()..],
        None => text,
    };
    if let Some(start) = body.rfind("\\boxed{") {
        let mut depth = 0usize;
        for (i, c) in body[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return body[start..start + i + 1].to_owned();
                    }
                }
                _ => {}
            }
        }
    }
    body.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// The paragraphs of simulated reasoning for a question whose right and wrong answer texts are
/// `correct_text` and `wrong_text`, answered correctly or not.
pub fn reasoning_paragraphs(
    config: &ThoughtsConfig,
    correct_text: &str,
    wrong_text: &str,
    answered_correctly: bool,
) -> Vec<String> {
    let right = final_answer(correct_text);
    let wrong = final_answer(wrong_text);
    let k = if answered_correctly {
        config.first_correct
    } else {
        0
    };
    (1..=config.paragraphs)
        .map(|p| {
            let mut words: Vec<String> = Vec::new();
            if p == 1 {
                words.push("Let me read the problem carefully.".to_owned());
            } else {
                words.push(OPENERS[(p as usize - 2) % OPENERS.len()].to_owned());
            }
            words.extend(
                (0..config.words)
                    .map(|i| FILLER[(i as usize + p as usize) % FILLER.len()].to_owned()),
            );
            let mut text = words.join(" ");
            if k > 0 && p == k {
                text.push_str(&format!(". So the result is {right}"));
            } else if k > 0 && p > k {
                text.push_str(&format!(". This confirms {right}"));
            } else if p == 1 || k == 0 {
                text.push_str(&format!(". Perhaps the result is {wrong}"));
            }
            text.push('.');
            text
        })
        .collect()
}

/// `answer` with a thinking section of `paragraphs` in front (any thinking section it had is
/// replaced).
pub fn with_thinking(paragraphs: &[String], answer: &str) -> String {
    let rest = match (
        answer.trim_start().starts_with("<think>"),
        answer.find("</think>"),
    ) {
        (true, Some(end)) => answer[end + "</think>".len()..].trim_start(),
        _ => answer,
    };
    format!("<think>\n{}\n</think>\n\n{rest}", paragraphs.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RIGHT: &str = "<think>\nhm\n</think>\n\nSo.\nThe answer is \\boxed{\\frac{1}{2}}.";
    const WRONG: &str = "So.\nThe answer is \\boxed{7}.";

    fn config(paragraphs: u32, first_correct: u32) -> ThoughtsConfig {
        ThoughtsConfig {
            paragraphs,
            first_correct,
            words: 3,
        }
    }

    #[test]
    fn final_answers_are_the_last_box_or_line() {
        assert_eq!(final_answer(RIGHT), "\\boxed{\\frac{1}{2}}");
        assert_eq!(final_answer("a\nANSWER: C\n\n"), "ANSWER: C");
        assert_eq!(final_answer("<think>\\boxed{9}</think>plain"), "plain");
    }

    #[test]
    fn the_correct_answer_first_appears_in_the_chosen_paragraph() {
        let p = reasoning_paragraphs(&config(5, 3), RIGHT, WRONG, true);
        assert_eq!(p.len(), 5);
        let first = p
            .iter()
            .position(|t| t.contains("\\boxed{\\frac{1}{2}}"))
            .unwrap();
        assert_eq!(first, 2);
        assert!(p[0].contains("\\boxed{7}"), "{}", p[0]);
        assert!(p[1..].iter().all(|t| !t.contains("\\boxed{7}")));
        assert!(p.iter().all(|t| !t.contains("\n\n")));
        // no digits outside the answers, so no stray candidate answers
        assert!(
            p.iter()
                .filter(|t| !t.contains("boxed"))
                .all(|t| !t.chars().any(|c| c.is_ascii_digit()))
        );
        for (i, t) in p.iter().enumerate().skip(1) {
            assert!(t.starts_with(OPENERS[i - 1]), "{t}");
        }
        let wrong = reasoning_paragraphs(&config(5, 3), RIGHT, WRONG, false);
        assert!(
            wrong
                .iter()
                .all(|t| !t.contains("frac") && t.contains("\\boxed{7}"))
        );
        let never = reasoning_paragraphs(&config(2, 0), RIGHT, WRONG, true);
        assert!(never.iter().all(|t| !t.contains("frac")));
    }

    #[test]
    fn thinking_is_put_in_front_and_replaces_any_section() {
        let p = vec!["a.".to_owned(), "But wait, b.".to_owned()];
        assert_eq!(
            with_thinking(&p, RIGHT),
            "<think>\na.\n\nBut wait, b.\n</think>\n\nSo.\nThe answer is \\boxed{\\frac{1}{2}}."
        );
        assert_eq!(
            with_thinking(&p, "x"),
            "<think>\na.\n\nBut wait, b.\n</think>\n\nx"
        );
    }

    #[test]
    fn configs_are_checked_with_field_names() {
        let err = config(0, 0).validate().unwrap_err().to_string();
        assert!(err.contains("reasoning.thoughts.paragraphs"), "{err}");
        let err = config(2, 3).validate().unwrap_err().to_string();
        assert!(
            err.contains("reasoning.thoughts.first_correct") && err.contains('3'),
            "{err}"
        );
        let c = crate::SimConfig::from_yaml(
            "reasoning: {mode: field, thoughts: {paragraphs: 4, first_correct: 2}}",
        )
        .unwrap();
        assert_eq!(
            c.reasoning.thoughts,
            Some(ThoughtsConfig {
                paragraphs: 4,
                first_correct: 2,
                words: 12
            })
        );
        let err =
            crate::SimConfig::from_yaml("reasoning: {thoughts: {paragraphs: 2, first_correct: 5}}")
                .unwrap_err()
                .to_string();
        assert!(err.contains("first_correct"), "{err}");
    }
}
