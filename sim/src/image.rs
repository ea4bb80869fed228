//! Image parts of a chat request as prompt tokens. The rule (EvalScope's local count with its
//! default `--image-patch-size` 28): a picture sent as a `data:` URL of a PNG or JPEG counts
//! `ceil(height / 28) · ceil(width / 28)` tokens; a picture by `http(s)` URL counts 0 (the
//! simulator fetches nothing). A data URL that is not base64 of a PNG or JPEG is a bad request.

/// The patch edge, pixels.
pub(crate) const PATCH: u64 = 28;

/// Standard base64, padded or not (the `base64` crate).
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    LENIENT.decode(s).ok()
}

/// A PNG's or JPEG's width and height (read by `imagesize`), None for anything else.
fn dims(b: &[u8]) -> Option<(u64, u64)> {
    use imagesize::ImageType;
    if !matches!(
        imagesize::image_type(b).ok()?,
        ImageType::Png | ImageType::Jpeg
    ) {
        return None;
    }
    let size = imagesize::blob_size(b).ok()?;
    Some((
        u64::try_from(size.width).ok()?,
        u64::try_from(size.height).ok()?,
    ))
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
    let (w, h) = dims(&bytes).ok_or("image_url: the data URL holds no PNG or JPEG picture")?;
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
        assert_eq!(dims(&decode_base64(jpg).expect("b64")), Some((5, 3)));
        assert_eq!(
            image_tokens(&format!("data:image/jpeg;base64,{jpg}")),
            Ok(1)
        );
        assert_eq!(image_tokens("https://example.com/cat.png"), Ok(0));
        assert!(image_tokens("data:image/png;base64,!!").is_err());
        assert!(image_tokens("data:image/png;base64,aGVsbG8=").is_err());
    }
}
