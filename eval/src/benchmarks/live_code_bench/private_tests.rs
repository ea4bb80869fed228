//! `private_test_cases` of LiveCodeBench records: a JSON string, or (in `code_generation_lite`)
//! `base64(zlib(pickle(json string)))`. Only a pickled `str` is accepted, read opcode by opcode;
//! nothing is ever executed.

use std::io::Read;

/// The JSON text of the private tests.
pub fn decode(text: &str) -> Result<String, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        return Ok(text.to_owned());
    }
    let packed = base64(text.trim()).ok_or("neither JSON nor base64")?;
    let mut pickled = Vec::new();
    flate2::read::ZlibDecoder::new(packed.as_slice())
        .read_to_end(&mut pickled)
        .map_err(|e| format!("base64 but not zlib data: {e}"))?;
    unpickle_str(&pickled)
}

/// Standard base64 (padding optional, whitespace ignored).
fn base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in text.bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The string of a pickle that holds one `str` (protocols 2–5).
fn unpickle_str(data: &[u8]) -> Result<String, String> {
    let mut pos = 0usize;
    let take = |pos: &mut usize, n: usize| -> Result<&[u8], String> {
        let end = pos
            .checked_add(n)
            .filter(|e| *e <= data.len())
            .ok_or("truncated pickle")?;
        let s = &data[*pos..end];
        *pos = end;
        Ok(s)
    };
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |a, x| (a << 8) | u64::from(*x));
    let mut value = None;
    while pos < data.len() {
        let op = take(&mut pos, 1)?[0];
        match op {
            0x80 => {
                take(&mut pos, 1)?;
            }
            0x95 => {
                take(&mut pos, 8)?;
            }
            0x94 => {}
            0x8c | 0x58 | 0x8d => {
                let width = match op {
                    0x8c => 1,
                    0x58 => 4,
                    _ => 8,
                };
                let len =
                    usize::try_from(le(take(&mut pos, width)?)).map_err(|_| "string too long")?;
                let bytes = take(&mut pos, len)?;
                value = Some(
                    String::from_utf8(bytes.to_vec()).map_err(|_| "pickled string is not UTF-8")?,
                );
            }
            b'.' => return value.ok_or_else(|| "pickle holds no string".to_owned()),
            other => {
                return Err(format!(
                    "pickle opcode 0x{other:02x}: only a pickled str is read"
                ));
            }
        }
    }
    Err("truncated pickle".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_passes_through() {
        assert_eq!(decode("[]").unwrap(), "[]");
    }

    #[test]
    fn compressed_pickles_decode() {
        // base64(zlib.compress(pickle.dumps('[{"input": "1", "output": "2", "testtype": "stdin"}]', protocol=4)))
        let packed =
            "eJxrYJlqwQABPSbR1UqZeQWlJUpWCkqGSjoKSvmlJVCuEYhbklpcUlJZkAoSKC5JycxTqo2dogcAOgkSqg==";
        let json = decode(packed).unwrap();
        assert_eq!(
            json,
            r#"[{"input": "1", "output": "2", "testtype": "stdin"}]"#
        );
        assert!(decode("not base64 !").is_err());
    }
}
