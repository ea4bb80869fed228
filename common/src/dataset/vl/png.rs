//! A minimal PNG writer: 8-bit grey, RGB or RGBA, no interlace, filter 0 on every row, the
//! pixels deflated with `flate2` (zlib), chunks checked with CRC-32 (ISO 3309, as PNG asks).

use std::io::Write;

/// Pixel layout of an image (EvalScope's `--image-format`, PIL's mode names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImageMode {
    /// 8-bit grey.
    #[serde(rename = "L")]
    L,
    /// 8-bit red, green, blue.
    #[serde(rename = "RGB")]
    Rgb,
    /// RGB with alpha.
    #[serde(rename = "RGBA")]
    Rgba,
}

impl ImageMode {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            ImageMode::L => 1,
            ImageMode::Rgb => 3,
            ImageMode::Rgba => 4,
        }
    }

    /// PNG's colour type.
    fn color_type(self) -> u8 {
        match self {
            ImageMode::L => 0,
            ImageMode::Rgb => 2,
            ImageMode::Rgba => 6,
        }
    }

    /// The mode named `s` (`L`, `RGB`, `RGBA`), None for another.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "L" => Some(ImageMode::L),
            "RGB" => Some(ImageMode::Rgb),
            "RGBA" => Some(ImageMode::Rgba),
            _ => None,
        }
    }
}

/// CRC-32 (reflected, polynomial 0xEDB88320), bit by bit: chunks are few and small.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c ^= u32::from(*b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// The PNG file of `pixels` (rows top to bottom, `mode.channels()` bytes a pixel).
pub fn encode(width: u32, height: u32, mode: ImageMode, pixels: &[u8]) -> std::io::Result<Vec<u8>> {
    let row = width as usize * mode.channels();
    if pixels.len() != row * height as usize || width == 0 || height == 0 {
        return Err(std::io::Error::other(format!(
            "{} bytes are not a {width}×{height} image of {} bytes a pixel",
            pixels.len(),
            mode.channels()
        )));
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, mode.color_type(), 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    for r in pixels.chunks(row) {
        z.write_all(&[0])?;
        z.write_all(r)?;
    }
    chunk(&mut out, b"IDAT", &z.finish()?);
    chunk(&mut out, b"IEND", &[]);
    Ok(out)
}

/// Width and height from a PNG file's header, None when it is not one.
pub fn dimensions(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_png_holds_its_pixels() {
        let px: Vec<u8> = (0..2 * 3 * 3).map(|i| i as u8 * 10).collect();
        let png = encode(2, 3, ImageMode::Rgb, &px).expect("encode");
        assert_eq!(dimensions(&png), Some((2, 3)));
        // IHDR crc as any decoder checks it
        let crc = u32::from_be_bytes(png[29..33].try_into().expect("4"));
        assert_eq!(crc, crc32(&png[12..29]));
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926, "the standard check value");
        // the IDAT inflates to filter byte + row, row by row
        let len = u32::from_be_bytes(png[33..37].try_into().expect("4")) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + len])
            .read_to_end(&mut raw)
            .expect("inflate");
        assert_eq!(raw.len(), 3 * (1 + 6));
        assert_eq!(&raw[1..7], &px[..6]);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
        assert!(encode(2, 3, ImageMode::L, &px).is_err());
    }
}
