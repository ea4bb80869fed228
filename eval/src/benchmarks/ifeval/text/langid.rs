//! Language detection as the reference does it: `langdetect.detect` (langdetect 1.0.9, its 55
//! built-in profiles) through the `langdetect` crate, a port that reproduces langdetect's
//! random walk bit for bit. The seed is fixed at 0 (`DetectorFactory.seed = 0`), so a text is
//! always given the same language.
//!
//! Where this can differ from the reference: a reference run without a fixed seed draws a new
//! walk per call, and its result on texts near a tie between two languages changes from call
//! to call; probabilities also depend on the CPython version (the crate's default settings
//! are CPython 3.14's; the detected language rarely changes).

use std::sync::LazyLock;

use langdetect::{DetectorFactory, Seed};

static FACTORY: LazyLock<DetectorFactory> = LazyLock::new(|| {
    let mut factory = DetectorFactory::builtin().clone();
    factory.seed = Seed::Int(0);
    factory
});

/// The ISO 639-1 code langdetect gives `text` (`zh-cn` and `zh-tw` for Chinese), or `None`
/// where langdetect raises `LangDetectException` (no letters to go by).
pub fn detect(text: &str) -> Option<String> {
    FACTORY.detect(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_languages_and_fails_on_featureless_text() {
        assert_eq!(
            detect("This is an English sentence about the weather today.").as_deref(),
            Some("en")
        );
        assert_eq!(
            detect("Dies ist ein deutscher Satz über das Wetter heute.").as_deref(),
            Some("de")
        );
        assert_eq!(detect("1234 !!! ..."), None);
    }
}
