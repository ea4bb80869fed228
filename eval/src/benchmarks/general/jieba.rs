//! Chinese word segmentation as EvalScope 1.14.1 does it before BLEU and ROUGE: Python
//! `jieba.cut(text)` (jieba 0.42.1: default dictionary, accurate mode, HMM for unknown words),
//! reproduced with the `jieba-rs` crate.
//!
//! jieba-rs segments a block of word characters as jieba does (same dictionary, same route
//! through the word graph, same HMM tables and tie-breaking); three things around it differ and
//! are put back here:
//! - Blocks. jieba's word characters are `[\u4E00-\u9FD5a-zA-Z0-9+#&._%-]`; jieba-rs also takes
//!   U+9FD6..U+9FFF and the CJK extensions (U+3400.., U+F900.., U+20000..), which jieba emits one
//!   character at a time. So the text is split into jieba's blocks here, and only those are
//!   handed to jieba-rs; outside them every character is a token, and so is `\r\n`.
//! - Letters and digits the HMM meets. jieba's `finalseg` cuts them with
//!   `[a-zA-Z0-9]+(?:\.\d+)?%?` (`GPT-4` is `GPT`, `-`, `4`; `v1.2.3` is `v1.2`, `.`, `3`);
//!   jieba-rs keeps runs joined by `.`, `_` or `-` together (`GPT-4`). Such a token is cut again
//!   with jieba's pattern. No dictionary word holds `.`, `_` or `-`, so only HMM tokens are.
//! - The dictionary total. jieba's `dict.txt` lists `B超 3 n` twice, and jieba adds both lines
//!   to the total it divides every frequency by; jieba-rs's copy lists it once. A word no block
//!   can contain is added with frequency 3, so the totals (60101967) and thus every route
//!   probability are the same.

use std::sync::LazyLock;

use jieba_rs::Jieba;

/// jieba-rs with jieba 0.42.1's dictionary total.
static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut jieba = Jieba::new();
    // A NUL is never a word character, so this word is never matched: it only brings the
    // total to jieba's (see the module notes).
    jieba.add_word("\u{0}", Some(3), Some("x"));
    jieba
});

/// jieba's `re_han_default` class: `[\u4E00-\u9FD5a-zA-Z0-9+#&._%-]`.
fn is_word_char(c: char) -> bool {
    ('\u{4e00}'..='\u{9fd5}').contains(&c)
        || c.is_ascii_alphanumeric()
        || matches!(c, '+' | '#' | '&' | '.' | '_' | '%' | '-')
}

/// `jieba.cut(text)`: the tokens, whitespace and punctuation included, in order; they join
/// back to `text`.
pub fn cut(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(first) = rest.chars().next() {
        let block_len = if is_word_char(first) {
            rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len())
        } else {
            0
        };
        if block_len > 0 {
            let (block, tail) = rest.split_at(block_len);
            for token in JIEBA.cut(block, true) {
                split_like_finalseg(token.word, &mut out);
            }
            rest = tail;
        } else {
            // outside a block: `\r\n` is one token, every other character one
            let len = if rest.starts_with("\r\n") {
                2
            } else {
                first.len_utf8()
            };
            let (token, tail) = rest.split_at(len);
            out.push(token);
            rest = tail;
        }
    }
    out
}

/// A token jieba-rs's HMM made of letters and digits joined by `.`, `_` or `-`, cut again as
/// `re.split('([a-zA-Z0-9]+(?:\.\d+)?%?)', token)` does in jieba's `finalseg`: the matches, and
/// the (non-empty) text between them.
fn split_like_finalseg<'a>(token: &'a str, out: &mut Vec<&'a str>) {
    let b = token.as_bytes();
    let joined = token.is_ascii()
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().any(|c| matches!(c, b'.' | b'_' | b'-'));
    if !joined {
        out.push(token);
        return;
    }
    let mut gap = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        if gap < i {
            out.push(&token[gap..i]);
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if b.get(i) == Some(&b'%') {
            i += 1;
        }
        out.push(&token[start..i]);
        gap = i;
    }
    if gap < b.len() {
        out.push(&token[gap..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_as_jieba() {
        assert_eq!(
            cut("木星是太阳系中最大的行星。"),
            ["木星", "是", "太阳系", "中", "最大", "的", "行星", "。"]
        );
        assert_eq!(
            cut("第一行\r\n第二行\n 第三行"),
            ["第一行", "\r\n", "第二行", "\n", " ", "第三行"]
        );
        assert!(cut("").is_empty());
    }

    #[test]
    fn hmm_letters_and_digits_are_cut_as_finalseg_does() {
        // jieba-rs alone: `GPT-4`
        assert_eq!(cut("我用的是GPT-4"), ["我用", "的", "是", "GPT", "-", "4"]);
        let mut out = Vec::new();
        for t in ["GPT-4", "v1.2.3", "3.5x", "max_len_2", "99.5%", "a-", "C++"] {
            split_like_finalseg(t, &mut out);
        }
        assert_eq!(
            out,
            [
                "GPT", "-", "4", "v1.2", ".", "3", "3.5", "x", "max", "_", "len", "_", "2",
                "99.5%", "a", "-", "C++"
            ]
        );
    }

    #[test]
    fn characters_past_jiebas_class_stand_alone() {
        assert_eq!(
            cut("这是㐀字和\u{9feb}字"),
            ["这是", "㐀", "字", "和", "\u{9feb}", "字"]
        );
        // jieba-rs alone: `㐀㐀`, `\u{9feb}%`
        assert_eq!(cut("㐀㐀字"), ["㐀", "㐀", "字"]);
        assert_eq!(cut("这是\u{9feb}%字"), ["这是", "\u{9feb}", "%", "字"]);
    }
}
