//! English number words to digits, after Python's `word2number` (as EvalScope calls it).

/// The number spelled by `text` ("twenty-one" → 21), or `None` when it spells none.
///
/// Like `word2number`, hyphens count as spaces, words that are not number words are ignored,
/// and an all-digit string converts to itself. Unlike it, "point" (decimals) is not supported
/// (`None`), and malformed sequences ("one one") are summed instead of rejected.
pub(crate) fn word_to_num(text: &str) -> Option<u64> {
    let lower = text.to_lowercase().replace('-', " ");
    if !lower.is_empty() && lower.chars().all(|c| c.is_ascii_digit()) {
        return lower.parse().ok();
    }
    let mut found = false;
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    for word in lower.split_whitespace() {
        if word == "point" {
            return None;
        }
        let Some(value) = word_value(word) else {
            continue;
        };
        found = true;
        match value {
            100 => current = current.max(1).saturating_mul(100),
            1_000 | 1_000_000 | 1_000_000_000 => {
                total = total.saturating_add(current.max(1).saturating_mul(value));
                current = 0;
            }
            v => current = current.saturating_add(v),
        }
    }
    found.then(|| total.saturating_add(current))
}

fn word_value(word: &str) -> Option<u64> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(i) = SMALL.iter().position(|w| *w == word) {
        return u64::try_from(i).ok();
    }
    if let Some(i) = TENS.iter().position(|w| *w == word) {
        return u64::try_from(i).ok().map(|i| (i + 2) * 10);
    }
    match word {
        "hundred" => Some(100),
        "thousand" => Some(1_000),
        "million" => Some(1_000_000),
        "billion" => Some(1_000_000_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::word_to_num;

    #[test]
    fn spelled_numbers() {
        assert_eq!(word_to_num("five"), Some(5));
        assert_eq!(word_to_num("Twenty-one"), Some(21));
        assert_eq!(word_to_num("three hundred forty two"), Some(342));
        assert_eq!(word_to_num("two thousand and five"), Some(2005));
        assert_eq!(word_to_num("007"), Some(7));
        assert_eq!(word_to_num("east"), None);
        assert_eq!(word_to_num("two point five"), None);
        assert_eq!(word_to_num(""), None);
    }
}
