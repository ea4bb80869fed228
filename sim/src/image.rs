//! Image parts of a chat request as prompt tokens. The rule (EvalScope's local count with its
//! default `--image-patch-size` 28): a picture sent as a `data:` URL of a PNG or JPEG counts
//! `ceil(height / 28) · ceil(width / 28)` tokens; a picture by `http(s)` URL counts 0 (the
//! simulator fetches nothing). A data URL that is not base64 of a PNG or JPEG is a bad request.

/// The patch edge, pixels.
pub(crate) const PATCH: u64 = 28;

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let s = s.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for c in s.chunks(4) {
        let mut n = 0u32;
        for (i, b) in c.iter().enumerate() {
            n |= val(*b)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..c.len().saturating_sub(1)]);
    }
    Some(out)
}

fn png_dims(b: &[u8]) -> Option<(u64, u64)> {
    if b.len() < 24 || &b[..8] != b"\x89PNG\r\n\x1a\n" || &b[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(b[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(b[20..24].try_into().ok()?);
    Some((u64::from(w), u64::from(h)))
}

fn jpeg_dims(b: &[u8]) -> Option<(u64, u64)> {
    if b.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let s = b.get(i + 5..i + 9)?;
            let h = u64::from(u16::from_be_bytes([s[0], s[1]]));
            let w = u64::from(u16::from_be_bytes([s[2], s[3]]));
            return Some((w, h));
        }
        i += 2 + len;
    }
    None
}

/// Tokens of the picture at `url` by the rule above.
pub(crate) fn image_tokens(url: &str) -> Result<u64, String> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(0);
    };
    let Some((_, data)) = rest.split_once(";base64,") else {
        return Err("image_url: a data URL must be base64 (`data:<type>;base64,...`)".into());
    };
    let bytes = decode_base64(data).ok_or("image_url: the data URL is not valid base64")?;
    let (w, h) = png_dims(&bytes)
        .or_else(|| jpeg_dims(&bytes))
        .ok_or("image_url: the data URL holds no PNG or JPEG picture")?;
    Ok(w.div_ceil(PATCH) * h.div_ceil(PATCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_count_their_patches() {
        // a PNG signature and IHDR of 60×30 (no pixels needed for the count)
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&60u32.to_be_bytes());
        png.extend_from_slice(&30u32.to_be_bytes());
        let b64 = "iVBORw0KGgoAAAANSUhEUgAAADwAAAAe";
        assert_eq!(decode_base64(b64).as_deref(), Some(&png[..]));
        assert_eq!(
            image_tokens(&format!("data:image/png;base64,{b64}")),
            Ok(3 * 2)
        );
        // a JPEG: SOI, SOF0 of 3×5 → 1 patch
        let jpg = "/9j/wAALCAADAAUBAREA";
        assert_eq!(jpeg_dims(&decode_base64(jpg).expect("b64")), Some((5, 3)));
        assert_eq!(
            image_tokens(&format!("data:image/jpeg;base64,{jpg}")),
            Ok(1)
        );
        assert_eq!(image_tokens("https://example.com/cat.png"), Ok(0));
        assert!(image_tokens("data:image/png;base64,!!").is_err());
        assert!(image_tokens("data:image/png;base64,aGVsbG8=").is_err());
    }
}
