//! The one decoder of JSON-lines batches agents send (`ScoredSamples` of predictions; request
//! records are typed protobuf since protocol 3, see `metrics::record_wire`): every non-blank line
//! must decode as `T`; a line that does not is returned with its number and error instead of
//! being skipped silently, so every caller counts and reports it the same way.

use serde::de::DeserializeOwned;

/// A line of a batch that did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number within the batch.
    pub line: usize,
    /// Why it did not decode.
    pub error: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.error)
    }
}

/// What one batch held: the decoded items in order, and the lines that did not decode.
#[derive(Debug)]
pub struct Decoded<T> {
    /// Items of the lines that decoded, in batch order.
    pub items: Vec<T>,
    /// Lines that did not decode.
    pub bad: Vec<BadLine>,
}

/// Decodes every non-blank line of `jsonl` as `T`.
pub fn decode<T: DeserializeOwned>(jsonl: &[u8]) -> Decoded<T> {
    let mut out = Decoded {
        items: Vec::new(),
        bad: Vec::new(),
    };
    for (n, line) in jsonl.split(|&c| c == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<T>(line) {
            Ok(item) => out.items.push(item),
            Err(e) => out.bad.push(BadLine {
                line: n + 1,
                error: e.to_string(),
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        n: u32,
    }

    #[test]
    fn every_line_decodes_or_is_named() {
        let d = decode::<Item>(b"{\"n\":1}\n\n  \n{\"n\":\"x\"}\n{\"n\":3}\n{\"n\":4,\"extra\":1}");
        assert_eq!(d.items, vec![Item { n: 1 }, Item { n: 3 }]);
        assert_eq!(d.bad.iter().map(|b| b.line).collect::<Vec<_>>(), vec![4, 6]);
        assert!(d.bad[1].error.contains("extra"), "{}", d.bad[1]);
    }
}
