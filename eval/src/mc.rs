//! Multiple-choice questions: option letters, the option block of a prompt, and answer
//! extraction exactly as EvalScope v1.10.0 does it (`parse_answers`, `parse_answers_zh`).
//!
//! The patterns keep Python's `re` semantics: `\s` is Python's whitespace (which includes
//! U+001C..U+001F), `\d` is a Unicode decimal digit, `\w` is a letter, number or `_`, and
//! `(?i)[A-Za-z]` also matches `İ ı ſ K`. The first match wins (`re.search`).

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

/// Python's `\s` (`str.isspace`) as the body of a regex character class.
const PY_SPACE: &str = r"\t\n\x0B\x0C\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}";

/// `[A-Za-z\d ,]` as Python matches it under `(?i)`.
const LABEL_CLASS: &str = r"A-Za-z\x{130}\x{131}\x{17F}\x{212A}\d ,";

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the multiple-choice patterns are constants that compile")
}

/// v1.10.0 strict: `(?i)^ANSWER\s*:\s*([A-Za-z\d ,]+)\s*(?:$|\n|\.)`, multiline.
static STRICT: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?mi)^ANSWER[{PY_SPACE}]*:[{PY_SPACE}]*([{LABEL_CLASS}]+)[{PY_SPACE}]*(?:$|\n|\.)"
    ))
});

/// v1.10.0 lenient: `(?i)ANSWER\s*:\s*([A-Za-z\d ,]+)(?:[^\w]|\n|$|\.)`.
static LENIENT: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)ANSWER[{PY_SPACE}]*:[{PY_SPACE}]*([{LABEL_CLASS}]+)(?:[^\p{{L}}\p{{N}}_]|\n|$|\.)"
    ))
});

/// v1.10.0 Chinese: `答案\s*[:：]\s*([A-Za-z0-9,，]+)`.
static ZH: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"答案[{PY_SPACE}]*[:：][{PY_SPACE}]*([A-Za-z0-9,，]+)"
    ))
});

/// EvalScope's `SINGLE_ANSWER_TEMPLATE_COT` (GPQA, MMLU-Redux).
pub const SINGLE_ANSWER_TEMPLATE_COT: &str = "Answer the following multiple choice question. The last line of your response should be of the following format: 'ANSWER: [LETTER]' (without quotes) where [LETTER] is one of {letters}. Think step by step before answering.\n\n{question}\n\n{choices}";

/// EvalScope's `CHINESE_SINGLE_ANSWER_TEMPLATE_COT` (IQuiz).
pub const CHINESE_SINGLE_ANSWER_TEMPLATE_COT: &str = "回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式：\"答案：[LETTER]\"（不带引号），其中 [LETTER] 是 {letters} 中的一个。请在回答前进行一步步思考。\n\n问题：{question}\n选项：\n{choices}\n";

/// A multiple-choice prompt: `template` with `{question}`, `{choices}` (`A) ...` lines) and
/// `{letters}` (`A,B,C,D`) filled in.
pub fn prompt<S: AsRef<str>>(template: &str, question: &str, choices: &[S]) -> String {
    crate::benchmarks::template::render(
        template,
        &[
            ("question", question),
            ("choices", &format_choices(choices)),
            ("letters", &format_letters(choices.len())),
        ],
    )
}

/// The label of option `index`: `A`..`Z`, then `1`, `2`, ... from index 26.
pub fn answer_character(index: usize) -> String {
    match u8::try_from(index) {
        Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
        _ => (index - 25).to_string(),
    }
}

/// The labels of `num_choices` options.
pub fn allowed_options(num_choices: usize) -> BTreeSet<String> {
    (0..num_choices).map(answer_character).collect()
}

/// `{letters}` of a template: the labels joined by commas, no spaces (`A,B,C,D`).
pub fn format_letters(num_choices: usize) -> String {
    (0..num_choices)
        .map(answer_character)
        .collect::<Vec<_>>()
        .join(",")
}

/// `{choices}` of a template: one `L) text` line per option.
pub fn format_choices<S: AsRef<str>>(choices: &[S]) -> String {
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}) {}", answer_character(i), c.as_ref()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The extracted prediction of a set of answers: the labels sorted and concatenated.
pub fn join_answers(answers: &BTreeSet<String>) -> String {
    answers.iter().map(String::as_str).collect()
}

/// Python's `str.strip()` (Unicode whitespace, including U+001C..U+001F).
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.isspace()` for one character.
pub fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The last uppercase character of the text.
fn last_capital(text: &str) -> Option<String> {
    text.chars()
        .rev()
        .find(|c| c.is_uppercase())
        .map(|c| c.to_string())
}

/// v1.10.0 fallback: the last uppercase character of the text, whatever the options are.
fn fallback(text: &str) -> BTreeSet<String> {
    last_capital(text)
        .map(|c| BTreeSet::from([c]))
        .unwrap_or_default()
}

/// The answers an English capture names, both versions: stripped of white space and trailing
/// dots; with `multiple`, " and " and spaces dropped, full-width commas read as commas, then
/// split at commas or else into characters; the empty set unless all are options.
///
/// (v1.10.0 does not read full-width commas, but its captures cannot contain one.)
fn answers_en(captured: &str, allowed: &BTreeSet<String>, multiple: bool) -> BTreeSet<String> {
    let matched = py_strip(captured).trim_end_matches('.');
    if multiple {
        let matched = matched
            .replace(" and ", "")
            .replace(' ', "")
            .replace('，', ",");
        let by_comma: BTreeSet<String> = matched.split(',').map(str::to_owned).collect();
        if by_comma.is_subset(allowed) {
            return by_comma;
        }
        let by_char: BTreeSet<String> = matched.chars().map(String::from).collect();
        if by_char.is_subset(allowed) {
            return by_char;
        }
    } else if allowed.contains(matched) {
        return BTreeSet::from([matched.to_owned()]);
    }
    BTreeSet::new()
}

/// The answers a Chinese capture names, both versions: stripped of white space and trailing
/// `。` or `.`; with `multiple`, " 和 " and spaces dropped, full-width commas read as commas,
/// then split at commas if there are any, else into characters; the empty set unless all are
/// options.
fn answers_zh(captured: &str, allowed: &BTreeSet<String>, multiple: bool) -> BTreeSet<String> {
    let matched = py_strip(captured).trim_end_matches(['。', '.']);
    if multiple {
        let matched = matched
            .replace(" 和 ", "")
            .replace(' ', "")
            .replace('，', ",");
        let answers: BTreeSet<String> = if matched.contains(',') {
            matched.split(',').map(str::to_owned).collect()
        } else {
            matched.chars().map(String::from).collect()
        };
        if answers.is_subset(allowed) {
            answers
        } else {
            BTreeSet::new()
        }
    } else if allowed.contains(matched) {
        BTreeSet::from([matched.to_owned()])
    } else {
        BTreeSet::new()
    }
}

/// EvalScope v1.10.0 `parse_answers`: the answers in an English completion.
///
/// Strict `ANSWER: X` on a line of its own first, then anywhere, then the last uppercase
/// character of the text. With `multiple`, "A, C", "A and C", "AC" and "A C" all give {A, C};
/// an answer outside the options gives the empty set.
pub fn parse_answers(text: &str, num_choices: usize, multiple: bool) -> BTreeSet<String> {
    let captured = STRICT
        .captures(text)
        .or_else(|| LENIENT.captures(text))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str());
    match captured {
        Some(captured) => answers_en(captured, &allowed_options(num_choices), multiple),
        None => fallback(text),
    }
}

/// EvalScope v1.10.0 `parse_answers_zh`: the answers in a Chinese completion (`答案：X`, first
/// match, half- or full-width colon), else the last uppercase character of the text.
pub fn parse_answers_zh(text: &str, num_choices: usize, multiple: bool) -> BTreeSet<String> {
    match ZH.captures(text).and_then(|c| c.get(1)) {
        Some(captured) => answers_zh(captured.as_str(), &allowed_options(num_choices), multiple),
        None => fallback(text),
    }
}

/// [`parse_answers`] joined into the extracted prediction (`"AC"`, `"B"`, `""`).
pub fn extract(text: &str, num_choices: usize, multiple: bool) -> String {
    join_answers(&parse_answers(text, num_choices, multiple))
}

/// [`parse_answers_zh`] joined into the extracted prediction.
pub fn extract_zh(text: &str, num_choices: usize, multiple: bool) -> String {
    join_answers(&parse_answers_zh(text, num_choices, multiple))
}

/// Which EvalScope answer parser to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parser {
    /// v1.10.0: the first strict or lenient `ANSWER:` match, else the last capital.
    #[default]
    V1_10,
    /// EvalScope HEAD: the last `ANSWER:` marker followed by option labels (bracketed or plain,
    /// cut at the first word that is not a label), else the last capital if it is an option.
    Head,
}

impl Parser {
    /// The parser named by `extra_params.mc_parser` (`"v1.10"` or `"head"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "v1.10" | "v1.10.0" => Some(Self::V1_10),
            "head" => Some(Self::Head),
            _ => None,
        }
    }

    /// Its name, as `from_name` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::V1_10 => "v1.10",
            Self::Head => "head",
        }
    }
}

static HEAD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)ANSWER[{PY_SPACE}]*:[{PY_SPACE}]*\**[{PY_SPACE}]*"
    ))
});
static HEAD_MARKER_ZH: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"答案[{PY_SPACE}]*[:：][{PY_SPACE}]*\**[{PY_SPACE}]*"
    ))
});
static HEAD_BRACKETED: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"^[\(\[（【][{PY_SPACE}]*([A-Za-z\d](?:[{PY_SPACE}]*[,，][{PY_SPACE}]*[A-Za-z\d])*)[{PY_SPACE}]*[\)\]）】]"
    ))
});
static HEAD_PLAIN: LazyLock<Regex> = LazyLock::new(|| compile(r"^([A-Za-z\d][A-Za-z\d ,]*)"));
static HEAD_PLAIN_ZH: LazyLock<Regex> = LazyLock::new(|| compile(r"^([A-Za-z0-9][A-Za-z0-9,，]*)"));
static HEAD_TOKEN: LazyLock<Regex> = LazyLock::new(|| compile(r"[A-Za-z\d]+"));

/// HEAD: the leading part of a capture made of option labels only.
fn label_prefix<'a>(capture: &'a str, allowed: &BTreeSet<String>) -> &'a str {
    let mut end = 0;
    for token in HEAD_TOKEN.find_iter(capture) {
        let word = token.as_str();
        if allowed.contains(word) || word.chars().all(|c| allowed.contains(&c.to_string())) {
            end = token.end();
        } else {
            break;
        }
    }
    &capture[..end]
}

/// HEAD: the labels after the last marker that is followed by any.
fn last_labelled_answer<'a>(
    text: &'a str,
    marker: &Regex,
    plain: &Regex,
    allowed: &BTreeSet<String>,
) -> Option<&'a str> {
    let markers: Vec<_> = marker.find_iter(text).collect();
    for m in markers.iter().rev() {
        let tail = &text[m.end()..];
        for label in [&*HEAD_BRACKETED, plain] {
            let Some(capture) = label.captures(tail).and_then(|c| c.get(1)) else {
                continue;
            };
            let prefix = label_prefix(capture.as_str(), allowed);
            if !prefix.is_empty() {
                return Some(prefix);
            }
        }
    }
    None
}

/// HEAD fallback: the last uppercase character, only if it is an option.
fn fallback_in_options(text: &str, allowed: &BTreeSet<String>) -> BTreeSet<String> {
    last_capital(text)
        .filter(|c| allowed.contains(c))
        .map(|c| BTreeSet::from([c]))
        .unwrap_or_default()
}

/// EvalScope HEAD `parse_answers`.
pub fn parse_answers_head(text: &str, num_choices: usize, multiple: bool) -> BTreeSet<String> {
    let allowed = allowed_options(num_choices);
    match last_labelled_answer(text, &HEAD_MARKER, &HEAD_PLAIN, &allowed) {
        Some(matched) => answers_en(matched, &allowed, multiple),
        None => fallback_in_options(text, &allowed),
    }
}

/// EvalScope HEAD `parse_answers_zh`.
pub fn parse_answers_zh_head(text: &str, num_choices: usize, multiple: bool) -> BTreeSet<String> {
    let allowed = allowed_options(num_choices);
    match last_labelled_answer(text, &HEAD_MARKER_ZH, &HEAD_PLAIN_ZH, &allowed) {
        Some(matched) => answers_zh(matched, &allowed, multiple),
        None => fallback_in_options(text, &allowed),
    }
}

/// The extracted prediction of an English completion under `parser`.
pub fn extract_with(parser: Parser, text: &str, num_choices: usize, multiple: bool) -> String {
    join_answers(&match parser {
        Parser::V1_10 => parse_answers(text, num_choices, multiple),
        Parser::Head => parse_answers_head(text, num_choices, multiple),
    })
}

/// The extracted prediction of a Chinese completion under `parser`.
pub fn extract_zh_with(parser: Parser, text: &str, num_choices: usize, multiple: bool) -> String {
    join_answers(&match parser {
        Parser::V1_10 => parse_answers_zh(text, num_choices, multiple),
        Parser::Head => parse_answers_zh_head(text, num_choices, multiple),
    })
}

/// The parser a sample was loaded for (`metadata.mc_parser`, set from
/// `extra_params.mc_parser`; v1.10.0 when absent).
pub fn parser_of(metadata: &serde_json::Map<String, serde_json::Value>) -> Parser {
    metadata
        .get("mc_parser")
        .and_then(|v| v.as_str())
        .and_then(Parser::from_name)
        .unwrap_or_default()
}
