//! NLTK's Punkt sentence tokenizer with its pretrained English model: a port of the inference
//! path of nltk 3.9.2's `PunktSentenceTokenizer.tokenize` (what `nltk.sent_tokenize` and the
//! reference `count_sentences` run), not of its training.
//!
//! The model (abbreviations, collocations, frequent sentence starters, orthographic context)
//! is NLTK's English Punkt model, kept in `punkt_english/` in the tab layout of NLTK's
//! `punkt_tab`. Where this can differ from the reference:
//! - nltk 3.10 added curly quotes and guillemets to the closing punctuation Punkt realigns
//!   and to its non-word characters; this follows 3.9.2, where they are word characters.
//! - `\w` / `\d` in the token classes are Rust `regex`'s Unicode classes; Python's differ for
//!   a few characters (combining marks count as word characters here, not in Python).
//! - Offsets are byte offsets; Python's are character offsets, used the same way.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::py::{is_lower, is_py_space, is_upper, lower, py_strip, rstrip};

const ABBREV_TYPES: &str = include_str!("punkt_english/abbrev_types.txt");
const COLLOCATIONS: &str = include_str!("punkt_english/collocations.tab");
const SENTENCE_STARTERS: &str = include_str!("punkt_english/sent_starters.txt");
const ORTHO_CONTEXT: &str = include_str!("punkt_english/ortho_context.tab");

const ORTHO_BEG_UC: u32 = 1 << 1;
const ORTHO_MID_UC: u32 = 1 << 2;
const ORTHO_UNK_UC: u32 = 1 << 3;
const ORTHO_BEG_LC: u32 = 1 << 4;
const ORTHO_MID_LC: u32 = 1 << 5;
const ORTHO_UNK_LC: u32 = 1 << 6;
const ORTHO_UC: u32 = ORTHO_BEG_UC | ORTHO_MID_UC | ORTHO_UNK_UC;
const ORTHO_LC: u32 = ORTHO_BEG_LC | ORTHO_MID_LC | ORTHO_UNK_LC;

/// The trained parameters of a Punkt model.
struct Params {
    abbrev_types: HashSet<String>,
    collocations: HashSet<(String, String)>,
    sent_starters: HashSet<String>,
    ortho_context: HashMap<String, u32>,
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.is_empty())
}

static ENGLISH: LazyLock<Params> = LazyLock::new(|| Params {
    abbrev_types: lines(ABBREV_TYPES).map(str::to_owned).collect(),
    collocations: lines(COLLOCATIONS)
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect(),
    sent_starters: lines(SENTENCE_STARTERS).map(str::to_owned).collect(),
    ortho_context: lines(ORTHO_CONTEXT)
        .filter_map(|l| l.split_once('\t'))
        .filter_map(|(t, n)| Some((t.to_owned(), n.parse().ok()?)))
        .collect(),
});

/// Punkt's word tokenizer (`PunktLanguageVars._word_tokenize_fmt`, nltk 3.9.2).
static WORD_RE: LazyLock<Option<fancy_regex::Regex>> = LazyLock::new(|| {
    let non_word = r#"(?:[)";}\]*:@'({\[?!])"#;
    let multi = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)";
    let word_start = r#"[^(\"`{\[:;&\#*@)}\]\-,]"#;
    let pattern = format!(
        r"{multi}|(?={word_start})\S+?(?=\s|$|{non_word}|{multi}|,(?=$|\s|{non_word}|{multi}))|\S"
    );
    fancy_regex::Regex::new(&pattern).ok()
});

static NUMERIC_RE: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"^-?[.,]?\d[\d,.\-]*\.?$").ok());
static INITIAL_RE: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"^[^\W\d]\.$").ok());
static ELLIPSIS_RE: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"^\.\.+$").ok());

fn matches(re: &LazyLock<Option<regex::Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(text))
}

/// One word token and its annotations (`PunktToken`).
#[derive(Debug)]
struct Token<'t> {
    tok: &'t str,
    ty: String,
    period_final: bool,
    sentbreak: bool,
    abbr: bool,
    ellipsis: bool,
}

impl<'t> Token<'t> {
    fn new(tok: &'t str) -> Self {
        let lowered = lower(tok);
        let ty = if matches(&NUMERIC_RE, &lowered) {
            "##number##".to_owned()
        } else {
            lowered
        };
        Self {
            tok,
            ty,
            period_final: tok.ends_with('.'),
            sentbreak: false,
            abbr: false,
            ellipsis: false,
        }
    }

    fn type_no_period(&self) -> &str {
        if self.ty.chars().count() > 1 && self.ty.ends_with('.') {
            &self.ty[..self.ty.len() - 1]
        } else {
            &self.ty
        }
    }

    fn type_no_sentperiod(&self) -> &str {
        if self.sentbreak {
            self.type_no_period()
        } else {
            &self.ty
        }
    }

    fn first_char(&self) -> String {
        self.tok
            .chars()
            .next()
            .map(String::from)
            .unwrap_or_default()
    }

    fn first_upper(&self) -> bool {
        is_upper(&self.first_char())
    }

    fn first_lower(&self) -> bool {
        is_lower(&self.first_char())
    }

    fn is_initial(&self) -> bool {
        matches(&INITIAL_RE, self.tok)
    }
}

/// What the orthographic heuristic says about a token starting a sentence.
#[derive(Debug, PartialEq)]
enum Ortho {
    Starter,
    NotStarter,
    Unknown,
}

/// `PunktLanguageVars.word_tokenize` of one line.
fn word_tokenize_line(line: &str) -> Vec<&str> {
    let Some(re) = WORD_RE.as_ref() else {
        return Vec::new();
    };
    re.find_iter(line)
        .filter_map(Result::ok)
        .map(|m| m.as_str())
        .collect()
}

/// `_tokenize_words`: lines with text, split into word tokens.
fn tokenize_words(text: &str) -> Vec<Token<'_>> {
    text.split('\n')
        .filter(|line| !py_strip(line).is_empty())
        .flat_map(word_tokenize_line)
        .map(Token::new)
        .collect()
}

fn first_pass(params: &Params, token: &mut Token<'_>) {
    let tok = token.tok;
    if matches!(tok, "." | "?" | "!") {
        token.sentbreak = true;
    } else if matches(&ELLIPSIS_RE, tok) {
        token.ellipsis = true;
    } else if token.period_final && !tok.ends_with("..") {
        let base = lower(&tok[..tok.len() - 1]);
        let last = base.rsplit('-').next().unwrap_or_default();
        if params.abbrev_types.contains(&base) || params.abbrev_types.contains(last) {
            token.abbr = true;
        } else {
            token.sentbreak = true;
        }
    }
}

fn ortho_heuristic(params: &Params, token: &Token<'_>) -> Ortho {
    if ";:,.!?".contains(token.tok) {
        return Ortho::NotStarter;
    }
    let context = params
        .ortho_context
        .get(token.type_no_sentperiod())
        .copied()
        .unwrap_or(0);
    if token.first_upper() && context & ORTHO_LC != 0 && context & ORTHO_MID_UC == 0 {
        return Ortho::Starter;
    }
    if token.first_lower() && (context & ORTHO_UC != 0 || context & ORTHO_BEG_LC == 0) {
        return Ortho::NotStarter;
    }
    Ortho::Unknown
}

/// `_second_pass_annotation` of `tokens[i]` given `tokens[i + 1]`.
fn second_pass(params: &Params, tokens: &mut [Token<'_>], i: usize) {
    let (head, tail) = tokens.split_at_mut(i + 1);
    let (Some(tok1), Some(tok2)) = (head.last_mut(), tail.first()) else {
        return;
    };
    if !tok1.period_final {
        return;
    }
    let typ = tok1.type_no_period().to_owned();
    let next_typ = tok2.type_no_sentperiod();
    let is_initial = tok1.is_initial();

    if params
        .collocations
        .contains(&(typ.clone(), next_typ.to_owned()))
    {
        tok1.sentbreak = false;
        tok1.abbr = true;
        return;
    }
    if (tok1.abbr || tok1.ellipsis) && !is_initial {
        if ortho_heuristic(params, tok2) == Ortho::Starter {
            tok1.sentbreak = true;
            return;
        }
        if tok2.first_upper() && params.sent_starters.contains(next_typ) {
            tok1.sentbreak = true;
            return;
        }
    }
    if is_initial || typ == "##number##" {
        let ortho = ortho_heuristic(params, tok2);
        if ortho == Ortho::NotStarter {
            tok1.sentbreak = false;
            tok1.abbr = true;
            return;
        }
        let next_context = params.ortho_context.get(next_typ).copied().unwrap_or(0);
        if ortho == Ortho::Unknown
            && is_initial
            && tok2.first_upper()
            && next_context & ORTHO_LC == 0
        {
            tok1.sentbreak = false;
            tok1.abbr = true;
        }
    }
}

/// `text_contains_sentbreak`: some token but the last ends a sentence.
fn contains_sentbreak(params: &Params, text: &str) -> bool {
    let mut tokens = tokenize_words(text);
    for token in tokens.iter_mut() {
        first_pass(params, token);
    }
    for i in 0..tokens.len().saturating_sub(1) {
        second_pass(params, &mut tokens, i);
    }
    let n = tokens.len();
    tokens.iter().take(n.saturating_sub(1)).any(|t| t.sentbreak)
}

/// A potential sentence end (`period_context_re` match): the `.`, `?` or `!` at `start`, the
/// text after it up to the next token's end, and where that token starts.
struct EndContext {
    start: usize,
    end: usize,
    after_end: usize,
    next_tok: Option<usize>,
}

fn is_non_word(c: char) -> bool {
    ")\";}]*:@'({[?!".contains(c)
}

fn end_contexts(text: &str) -> Vec<EndContext> {
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        if !matches!(c, '.' | '?' | '!') {
            continue;
        }
        let end = i + 1;
        let rest = &text[end..];
        let Some(next) = rest.chars().next() else {
            continue;
        };
        if is_non_word(next) {
            out.push(EndContext {
                start: i,
                end,
                after_end: end + next.len_utf8(),
                next_tok: None,
            });
        } else if is_py_space(next) {
            let ws = rest.len() - rest.trim_start_matches(is_py_space).len();
            let after_ws = &rest[ws..];
            let word = after_ws.len() - after_ws.trim_start_matches(|c| !is_py_space(c)).len();
            if word > 0 {
                out.push(EndContext {
                    start: i,
                    end,
                    after_end: end + ws + word,
                    next_tok: Some(end + ws),
                });
            }
        }
    }
    out
}

/// `_get_last_whitespace_index`: the byte index of the last ASCII whitespace, 0 when none.
fn last_whitespace_index(text: &str) -> usize {
    text.rfind([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        .unwrap_or(0)
}

/// `_match_potential_end_contexts`: each candidate end with the text Punkt decides on (the word
/// before it, the end character, and what follows); overlapping candidates drop the earlier.
fn potential_ends(text: &str) -> Vec<(EndContext, String)> {
    let mut out = Vec::new();
    let mut previous: Option<(EndContext, (usize, usize))> = None;
    let context = |m: &EndContext, slice: (usize, usize)| {
        let word = text.get(slice.0..slice.1).unwrap_or("");
        format!("{word}{}", &text[m.start..m.after_end])
    };
    for m in end_contexts(text) {
        let prev_stop = previous.as_ref().map_or(0, |(_, s)| s.1);
        let prev_start = previous.as_ref().map_or(0, |(_, s)| s.0);
        let before = text.get(prev_stop..m.start).unwrap_or("");
        let ws = last_whitespace_index(before);
        let word_start = if ws != 0 {
            ws + prev_stop + 1
        } else {
            prev_start
        };
        let slice = (word_start, m.start);
        if let Some((pm, ps)) = previous.take()
            && ps.1 <= slice.0
        {
            let c = context(&pm, ps);
            out.push((pm, c));
        }
        previous = Some((m, slice));
    }
    if let Some((pm, ps)) = previous {
        let c = context(&pm, ps);
        out.push((pm, c));
    }
    out
}

/// `_slices_from_text`: sentence spans before realignment.
fn raw_slices(params: &Params, text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut last_break = 0;
    for (m, context) in potential_ends(text) {
        if contains_sentbreak(params, &context) {
            out.push((last_break, m.end));
            last_break = m.next_tok.unwrap_or(m.end);
        }
    }
    out.push((last_break, rstrip(text).len()));
    out
}

/// `re_boundary_realignment.match(s)` (`["')\]}]+?(?:\s+|(?=--)|$)`, multiline): the length
/// of the closing punctuation and of the whole match.
fn realignment(s: &str) -> Option<(usize, usize)> {
    let closers = s.len() - s.trim_start_matches(['"', '\'', ')', ']', '}']).len();
    for n in 1..=closers {
        let rest = &s[n..];
        match rest.chars().next() {
            Some(c) if is_py_space(c) => {
                let ws = rest.len() - rest.trim_start_matches(is_py_space).len();
                return Some((n, n + ws));
            }
            None => return Some((n, n)),
            Some(_) if rest.starts_with("--") => return Some((n, n)),
            Some(_) => {}
        }
    }
    None
}

fn slice_text(text: &str, span: (usize, usize)) -> &str {
    if span.0 >= span.1 {
        return "";
    }
    text.get(span.0..span.1).unwrap_or("")
}

/// `_realign_boundaries`: closing quotes and brackets after a sentence end join that sentence.
fn realign(text: &str, slices: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut shift = 0;
    for (i, &(start, stop)) in slices.iter().enumerate() {
        let s1 = (start + shift, stop);
        let Some(&s2) = slices.get(i + 1) else {
            if !slice_text(text, s1).is_empty() {
                out.push(s1);
            }
            continue;
        };
        match realignment(slice_text(text, s2)) {
            Some((closing, whole)) => {
                out.push((s1.0, s2.0 + closing));
                shift = whole;
            }
            None => {
                shift = 0;
                if !slice_text(text, s1).is_empty() {
                    out.push(s1);
                }
            }
        }
    }
    out
}

/// The sentences of `text` (`nltk.sent_tokenize(text, "english")`).
pub fn sentences(text: &str) -> Vec<&str> {
    let params: &Params = &ENGLISH;
    realign(text, &raw_slices(params, text))
        .into_iter()
        .map(|span| slice_text(text, span))
        .collect()
}

/// The number of sentences (the reference `count_sentences`).
pub fn count_sentences(text: &str) -> usize {
    sentences(text).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_loaded() {
        let p: &Params = &ENGLISH;
        assert!(p.abbrev_types.contains("dr"));
        assert!(p.sent_starters.contains("however"));
        assert!(p.ortho_context.len() > 20_000);
        assert!(WORD_RE.is_some() && NUMERIC_RE.is_some());
    }

    #[test]
    fn splits_like_nltk() {
        // Outputs of nltk 3.9.2 `sent_tokenize`.
        assert_eq!(
            sentences("Hello world. This is Dr. Smith speaking. Is it 3.5 p.m.? Yes!"),
            [
                "Hello world.",
                "This is Dr. Smith speaking.",
                "Is it 3.5 p.m.?",
                "Yes!"
            ]
        );
        assert_eq!(
            sentences("(He left.) Then \"she said hi.\" And so on"),
            ["(He left.)", "Then \"she said hi.\"", "And so on"]
        );
        assert_eq!(
            sentences("Very bad acting!!! I promise."),
            ["Very bad acting!!!", "I promise."]
        );
        assert_eq!(count_sentences(""), 0);
        assert_eq!(count_sentences("   \n "), 0);
        assert_eq!(count_sentences("no end"), 1);
    }

    #[test]
    fn word_tokens_split_punctuation_but_not_periods() {
        assert_eq!(
            word_tokenize_line("Hi, (there) Mr. Smith... ok--fine!"),
            [
                "Hi", ",", "(", "there", ")", "Mr.", "Smith", "...", "ok", "--", "fine", "!"
            ]
        );
    }
}
