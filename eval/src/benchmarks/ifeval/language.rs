//! `language:response_language`: the whole response is in the given language, as langdetect
//! decides (a text langdetect cannot decide on counts as followed, as in the reference).

use super::kwargs::{KwargError, KwargResult, Kwargs};
use super::registry::{Checker, Instruction};
use super::text::langid;

/// The reference's `LANGUAGE_CODES`: the languages an instruction may ask for (any other code
/// makes the reference fail while building the instruction).
pub const LANGUAGE_CODES: [&str; 30] = [
    "en", "es", "pt", "ar", "hi", "fr", "ru", "de", "ja", "it", "bn", "uk", "th", "ur", "ta", "te",
    "bg", "ko", "pl", "he", "fa", "vi", "ne", "sw", "kn", "mr", "gu", "pa", "ml", "fi",
];

/// The response's detected language is `language`.
#[derive(Debug)]
pub struct ResponseLanguage {
    language: String,
}

impl Instruction for ResponseLanguage {
    fn check(&self, response: &str) -> bool {
        langid::detect(response).is_none_or(|lang| lang == self.language)
    }
}

pub(super) fn response_language(k: &Kwargs<'_>) -> KwargResult<Checker> {
    let language = k.str("language")?;
    if !LANGUAGE_CODES.contains(&language) {
        return Err(KwargError::new(
            "language",
            format!("{language:?} is not one of {}", LANGUAGE_CODES.join(", ")),
        ));
    }
    Ok(Box::new(ResponseLanguage {
        language: language.to_owned(),
    }))
}
