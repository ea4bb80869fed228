//! Splitting a file into numbered lines.

/// The lines of `bytes` with their 1-based numbers. A UTF-8 byte order mark and `\r` before
/// `\n` are dropped; a file of `n` newlines has `n + 1` lines (the last may be empty).
pub(crate) fn numbered(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
}

/// Whether `line` holds only ASCII whitespace.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}
