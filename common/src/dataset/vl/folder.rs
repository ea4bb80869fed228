//! `image_folder`: pictures with captions from a local folder, the local equivalent of
//! EvalScope's `flickr8k` (which reads `jpg` and `txt` from the `clip-benchmark/wds_flickr8k`
//! hub dataset): every `<key>.jpg`, `.jpeg` or `.png` with its `<key>.txt`, in name order. The
//! picture is sent as it is, as a data URL of its type (EvalScope re-encodes to JPEG).

use std::path::Path;

use super::{MAX_IMAGE_BYTES, VlError, data_url, image_tokens, message, png};
use crate::dataset::{LoadStats, PromptSink};
use crate::prompt::Prompt;
use crate::tokenize::TokenCounter;

/// The longest caption read.
const MAX_CAPTION_BYTES: u64 = 64 * 1024;

/// Width and height of a JPEG (its start-of-frame segment, read by `imagesize`).
pub fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if !matches!(imagesize::image_type(b).ok()?, imagesize::ImageType::Jpeg) {
        return None;
    }
    let size = imagesize::blob_size(b).ok()?;
    Some((
        u32::try_from(size.width).ok()?,
        u32::try_from(size.height).ok()?,
    ))
}

/// The prompts of the folder `dir`, at most `number` (0: all).
pub fn image_folder(
    dir: &Path,
    number: usize,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, VlError> {
    let file_err = |p: &Path, m: String| VlError::File {
        path: p.display().to_string(),
        message: m,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| file_err(dir, e.to_string()))?;
    let mut pictures = Vec::new();
    for e in entries {
        let path = e.map_err(|e| file_err(dir, e.to_string()))?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png")) {
            pictures.push(path);
        }
    }
    pictures.sort();
    if pictures.is_empty() {
        return Err(file_err(dir, "no .jpg, .jpeg or .png pictures".into()));
    }
    let mut kept = 0;
    for pic in pictures {
        if number > 0 && kept >= number {
            break;
        }
        let caption_path = pic.with_extension("txt");
        let meta = std::fs::metadata(&caption_path)
            .map_err(|e| file_err(&pic, format!("no caption {}: {e}", caption_path.display())))?;
        if meta.len() > MAX_CAPTION_BYTES {
            let m = format!(
                "{} bytes, more than the {MAX_CAPTION_BYTES} a caption may be",
                meta.len()
            );
            return Err(file_err(&caption_path, m));
        }
        let caption = std::fs::read_to_string(&caption_path)
            .map_err(|e| file_err(&caption_path, e.to_string()))?;
        let caption = caption.trim();
        let size = std::fs::metadata(&pic)
            .map_err(|e| file_err(&pic, e.to_string()))?
            .len();
        if size > MAX_IMAGE_BYTES as u64 {
            return Err(VlError::TooLarge {
                what: pic.display().to_string(),
                bytes: usize::try_from(size).unwrap_or(usize::MAX),
            });
        }
        let bytes = std::fs::read(&pic).map_err(|e| file_err(&pic, e.to_string()))?;
        let (mime, dims) = match (png::dimensions(&bytes), jpeg_dimensions(&bytes)) {
            (Some(d), _) => ("image/png", d),
            (None, Some(d)) => ("image/jpeg", d),
            (None, None) => return Err(file_err(&pic, "not a PNG or JPEG picture".into())),
        };
        let tokens = tokenizer.map(|t| {
            let text = u32::try_from(t.count(caption)).unwrap_or(u32::MAX);
            text.saturating_add(image_tokens(dims.0, dims.1))
        });
        let url = data_url(mime, &bytes);
        sink.push(Prompt {
            body: message(caption, &[url]),
            tokens,
        })?;
        kept += 1;
    }
    Ok(LoadStats {
        kept,
        ..LoadStats::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::PromptBody;

    #[test]
    fn pictures_pair_with_captions_and_big_ones_are_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let d = dir.path();
        let png = png::encode(56, 29, png::ImageMode::L, &[7; 56 * 29]).expect("png");
        std::fs::write(d.join("b.png"), &png).expect("write");
        std::fs::write(d.join("b.txt"), "a grey square\n").expect("write");
        // a JPEG header: SOI, APP0 (len 4), SOF0 with height 3 and width 5
        let jpg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC0, 0, 11, 8, 0, 3, 0, 5, 1, 1, 0x11, 0,
        ];
        std::fs::write(d.join("a.jpg"), jpg).expect("write");
        std::fs::write(d.join("a.txt"), "a dog").expect("write");
        std::fs::write(d.join("notes.md"), "ignored").expect("write");
        let mut out: Vec<Prompt> = Vec::new();
        let stats = image_folder(d, 0, None, &mut out).expect("read");
        assert_eq!(stats.kept, 2);
        let PromptBody::Messages { messages } = &out[0].body else {
            panic!("messages")
        };
        assert_eq!(messages[0]["content"][0]["text"], "a dog");
        let url = messages[0]["content"][1]["image_url"]["url"]
            .as_str()
            .expect("url");
        assert!(url.starts_with("data:image/jpeg;base64,/9j/"), "{url}");
        let PromptBody::Messages { messages } = &out[1].body else {
            panic!("messages")
        };
        assert_eq!(messages[0]["content"][0]["text"], "a grey square");
        assert_eq!(jpeg_dimensions(&jpg), Some((5, 3)));
        // with a tokenizer: caption tokens + ceil(56/28)·ceil(29/28) = 4 patches
        let tok = crate::tokenize::load_tokenizer("cl100k_base").expect("tok");
        let mut counted: Vec<Prompt> = Vec::new();
        image_folder(d, 1, Some(tok.as_ref()), &mut counted).expect("read");
        assert_eq!(counted.len(), 1);
        assert_eq!(counted[0].tokens, Some(tok.count("a dog") as u32 + 1));
        // a picture without its caption, and one too large for a message
        std::fs::write(d.join("c.png"), &png).expect("write");
        let e = image_folder(d, 0, None, &mut Vec::new()).expect_err("no caption");
        assert!(e.to_string().contains("c.png: no caption"), "{e}");
        std::fs::write(d.join("c.txt"), "big").expect("write");
        std::fs::write(d.join("c.png"), vec![0u8; MAX_IMAGE_BYTES + 1]).expect("write");
        let e = image_folder(d, 0, None, &mut Vec::new()).expect_err("too large");
        assert!(
            e.to_string().contains("c.png is 737281 bytes, more than"),
            "{e}"
        );
    }
}
