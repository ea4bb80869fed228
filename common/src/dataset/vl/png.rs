//! Pictures as PNG files (8-bit grey, RGB or RGBA) through the `png` crate, and a PNG's size
//! read back through `imagesize`.

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
    fn color_type(self) -> png::ColorType {
        match self {
            ImageMode::L => png::ColorType::Grayscale,
            ImageMode::Rgb => png::ColorType::Rgb,
            ImageMode::Rgba => png::ColorType::Rgba,
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

/// The PNG file of `pixels` (rows top to bottom, `mode.channels()` bytes a pixel), written by
/// the `png` crate (8-bit, no interlace, fast compression).
pub fn encode(width: u32, height: u32, mode: ImageMode, pixels: &[u8]) -> std::io::Result<Vec<u8>> {
    let row = width as usize * mode.channels();
    if pixels.len() != row * height as usize || width == 0 || height == 0 {
        return Err(std::io::Error::other(format!(
            "{} bytes are not a {width}×{height} image of {} bytes a pixel",
            pixels.len(),
            mode.channels()
        )));
    }
    let mut out = Vec::new();
    let mut e = png::Encoder::new(&mut out, width, height);
    e.set_color(mode.color_type());
    e.set_depth(png::BitDepth::Eight);
    e.set_compression(png::Compression::Fast);
    let mut w = e.write_header().map_err(std::io::Error::other)?;
    w.write_image_data(pixels).map_err(std::io::Error::other)?;
    w.finish().map_err(std::io::Error::other)?;
    Ok(out)
}

/// Width and height from a PNG file's header, None when it is not one.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if !matches!(
        imagesize::image_type(bytes).ok()?,
        imagesize::ImageType::Png
    ) {
        return None;
    }
    let size = imagesize::blob_size(bytes).ok()?;
    Some((
        u32::try_from(size.width).ok()?,
        u32::try_from(size.height).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_holds_its_pixels() {
        let px: Vec<u8> = (0..2 * 3 * 3).map(|i| i as u8 * 10).collect();
        let png = encode(2, 3, ImageMode::Rgb, &px).expect("encode");
        assert_eq!(dimensions(&png), Some((2, 3)));
        // a decoder reads back the very pixels
        let mut reader = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .expect("header");
        let mut back = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut back).expect("frame");
        assert_eq!((info.width, info.height), (2, 3));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&back[..info.buffer_size()], &px[..]);
        assert!(encode(2, 3, ImageMode::L, &px).is_err());
        assert_eq!(dimensions(b"not a picture at all"), None);
    }
}
