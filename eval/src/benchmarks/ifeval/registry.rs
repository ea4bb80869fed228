//! The instruction registry: the 25 instruction ids of google-research's
//! `instruction_following_eval` (as EvalScope ships them), the arguments each takes, and the
//! checker each builds.

use std::fmt::Debug;

use serde_json::{Map, Value};

use super::kwargs::{KwargError, KwargResult, Kwargs};
use super::{
    case, combination, content, format, keywords, language, length, punctuation, startend,
};

/// A built instruction: decides whether a response follows it.
pub trait Instruction: Debug + Send + Sync {
    /// Whether `response` follows the instruction (the reference's `check_following`).
    fn check(&self, response: &str) -> bool;
}

/// A boxed instruction.
pub type Checker = Box<dyn Instruction>;

type Build = fn(&Kwargs<'_>) -> KwargResult<Checker>;

/// One registered instruction id.
struct Entry {
    id: &'static str,
    args: &'static [&'static str],
    build: Build,
}

const REGISTRY: [Entry; 25] = [
    Entry {
        id: "keywords:existence",
        args: &["keywords"],
        build: keywords::existence,
    },
    Entry {
        id: "keywords:frequency",
        args: &["keyword", "frequency", "relation"],
        build: keywords::frequency,
    },
    Entry {
        id: "keywords:forbidden_words",
        args: &["forbidden_words"],
        build: keywords::forbidden_words,
    },
    Entry {
        id: "keywords:letter_frequency",
        args: &["letter", "let_frequency", "let_relation"],
        build: keywords::letter_frequency,
    },
    Entry {
        id: "language:response_language",
        args: &["language"],
        build: language::response_language,
    },
    Entry {
        id: "length_constraints:number_sentences",
        args: &["num_sentences", "relation"],
        build: length::number_sentences,
    },
    Entry {
        id: "length_constraints:number_paragraphs",
        args: &["num_paragraphs"],
        build: length::number_paragraphs,
    },
    Entry {
        id: "length_constraints:number_words",
        args: &["num_words", "relation"],
        build: length::number_words,
    },
    Entry {
        id: "length_constraints:nth_paragraph_first_word",
        args: &["num_paragraphs", "nth_paragraph", "first_word"],
        build: length::nth_paragraph_first_word,
    },
    Entry {
        id: "detectable_content:number_placeholders",
        args: &["num_placeholders"],
        build: content::number_placeholders,
    },
    Entry {
        id: "detectable_content:postscript",
        args: &["postscript_marker"],
        build: content::postscript,
    },
    Entry {
        id: "detectable_format:number_bullet_lists",
        args: &["num_bullets"],
        build: format::number_bullet_lists,
    },
    Entry {
        id: "detectable_format:constrained_response",
        args: &[],
        build: format::constrained_response,
    },
    Entry {
        id: "detectable_format:number_highlighted_sections",
        args: &["num_highlights"],
        build: format::number_highlighted_sections,
    },
    Entry {
        id: "detectable_format:multiple_sections",
        args: &["section_spliter", "num_sections"],
        build: format::multiple_sections,
    },
    Entry {
        id: "detectable_format:json_format",
        args: &[],
        build: format::json_format,
    },
    Entry {
        id: "detectable_format:title",
        args: &[],
        build: format::title,
    },
    Entry {
        id: "combination:two_responses",
        args: &[],
        build: combination::two_responses,
    },
    Entry {
        id: "combination:repeat_prompt",
        args: &["prompt_to_repeat"],
        build: combination::repeat_prompt,
    },
    Entry {
        id: "startend:end_checker",
        args: &["end_phrase"],
        build: startend::end_checker,
    },
    Entry {
        id: "startend:quotation",
        args: &[],
        build: startend::quotation,
    },
    Entry {
        id: "change_case:capital_word_frequency",
        args: &["capital_frequency", "capital_relation"],
        build: case::capital_word_frequency,
    },
    Entry {
        id: "change_case:english_capital",
        args: &[],
        build: case::english_capital,
    },
    Entry {
        id: "change_case:english_lowercase",
        args: &[],
        build: case::english_lowercase,
    },
    Entry {
        id: "punctuation:no_comma",
        args: &[],
        build: punctuation::no_comma,
    },
];

/// Every instruction id, in the reference registry's order.
pub fn ids() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.id).collect()
}

/// The arguments instruction `id` takes (`None` for an unknown id).
pub fn args_of(id: &str) -> Option<&'static [&'static str]> {
    REGISTRY.iter().find(|e| e.id == id).map(|e| e.args)
}

/// Builds instruction `id` from its keyword arguments (falsy values ignored).
pub fn build(id: &str, kwargs: &Map<String, Value>) -> KwargResult<Checker> {
    let Some(entry) = REGISTRY.iter().find(|e| e.id == id) else {
        return Err(KwargError {
            field: None,
            message: format!("unknown instruction id {id:?}"),
        });
    };
    let kwargs = Kwargs::new(kwargs);
    kwargs.only(entry.args)?;
    (entry.build)(&kwargs)
}
