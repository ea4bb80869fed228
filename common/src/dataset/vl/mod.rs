//! Vision-language prompts: EvalScope's `random_vl` (random text prompts, each with
//! `image_num` generated PNG pictures) and `image_folder`, the local equivalent of EvalScope's
//! `flickr8k` (pictures with their captions: `<key>.jpg|.jpeg|.png` beside `<key>.txt`, the
//! layout of the `clip-benchmark/wds_flickr8k` shards once unpacked). Each prompt is one user
//! message whose content is a `text` part then one `image_url` part per picture, a data URL,
//! as EvalScope's `create_message` builds it.
//!
//! A picture is bounded before it is made or read: its data URL must fit in one message to an
//! agent ([`MAX_IMAGE_BYTES`] of image file), else loading stops with an error naming it.

mod draw;
mod folder;
pub mod png;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

pub use folder::image_folder;
pub use png::ImageMode;

use super::{DatasetError, DatasetSpec, LoadStats, PromptSink};
use crate::prompt::{Prompt, PromptBody};
use crate::tokenize::TokenCounter;

/// EvalScope's dataset name for generated pictures.
pub const RANDOM_VL: &str = "random_vl";
/// The local-folder equivalent of EvalScope's `flickr8k`.
pub const IMAGE_FOLDER: &str = "image_folder";

/// EvalScope's `--image-patch-size` default: a picture counts `ceil(h/28) · ceil(w/28)` tokens.
pub const IMAGE_PATCH_SIZE: u32 = 28;

/// The largest image file carried in a prompt: its base64 (4/3 larger) and the rest of the
/// prompt must fit in one message to an agent.
pub const MAX_IMAGE_BYTES: usize = (swarm_proto::MAX_MESSAGE_BYTES - 64 * 1024) / 4 * 3;

/// The most pixel bytes one picture is drawn in (memory is bounded before drawing).
pub const MAX_RAW_PIXELS_BYTES: u64 = 64 << 20;

/// Whether `name` is a vision-language dataset of this module.
pub fn is_vl(name: &str) -> bool {
    name == RANDOM_VL || name == IMAGE_FOLDER
}

/// Why vision-language prompts could not be made.
#[derive(Debug, thiserror::Error)]
pub enum VlError {
    /// The text prompts failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// A picture setting is out of range.
    #[error("{flag} {message}")]
    Setting {
        /// The flag (`--image-width`).
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A picture would not fit in a message.
    #[error(
        "{what} is {bytes} bytes, more than the {MAX_IMAGE_BYTES} bytes of image one request may carry to an agent (1 MiB messages, base64)"
    )]
    TooLarge {
        /// The picture (a file, or `random_vl picture W×H`).
        what: String,
        /// Its size.
        bytes: usize,
    },
    /// A folder or file could not be read, or a picture has no caption.
    #[error("{path}: {message}")]
    File {
        /// The file or folder.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// EvalScope's picture settings of `random_vl`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageArgs {
    /// Pictures per prompt (`--image-num`, ≥ 1).
    pub num: u32,
    /// `--image-width` (≥ 1).
    pub width: u32,
    /// `--image-height` (≥ 1).
    pub height: u32,
    /// `--image-format`: the pixel layout, `RGB` (default), `L` or `RGBA`.
    pub mode: ImageMode,
}

impl Default for ImageArgs {
    fn default() -> Self {
        Self {
            num: 1,
            width: 224,
            height: 224,
            mode: ImageMode::Rgb,
        }
    }
}

/// Tokens a `w`×`h` picture counts for (EvalScope's local rule, also llm-sim's).
pub fn image_tokens(w: u32, h: u32) -> u32 {
    w.div_ceil(IMAGE_PATCH_SIZE)
        .saturating_mul(h.div_ceil(IMAGE_PATCH_SIZE))
}

/// `bytes` of `mime` as a data URL.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64(bytes))
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One user message: `text`, then the pictures (data URLs), as EvalScope's `create_message`.
pub fn message(text: &str, urls: &[String]) -> PromptBody {
    let mut content = vec![json!({"type": "text", "text": text})];
    content.extend(
        urls.iter()
            .map(|u| json!({"type": "image_url", "image_url": {"url": u}})),
    );
    PromptBody::Messages {
        messages: vec![json!({"role": "user", "content": content})],
    }
}

impl ImageArgs {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), VlError> {
        let bad = |flag, message: String| Err(VlError::Setting { flag, message });
        if self.num == 0 {
            return bad("--image-num", "must be at least 1".into());
        }
        for (flag, v) in [
            ("--image-width", self.width),
            ("--image-height", self.height),
        ] {
            if !(1..=16_384).contains(&v) {
                return bad(flag, format!("must be 1 ..= 16384 pixels, got {v}"));
            }
        }
        let raw = u64::from(self.width) * u64::from(self.height) * self.mode.channels() as u64;
        if raw > MAX_RAW_PIXELS_BYTES {
            let (w, h) = (self.width, self.height);
            let m = format!(
                "{w}×{h}: {raw} bytes of pixels, more than the {MAX_RAW_PIXELS_BYTES} a picture may be drawn in"
            );
            return bad("--image-width/--image-height", m);
        }
        Ok(())
    }

    /// One PNG picture of these settings as a data URL.
    fn picture(&self, rng: &mut StdRng) -> Result<String, VlError> {
        let px = draw::picture(rng, self.width, self.height, self.mode);
        let file =
            png::encode(self.width, self.height, self.mode, &px).map_err(|e| VlError::Setting {
                flag: "--image-format",
                message: e.to_string(),
            })?;
        if file.len() > MAX_IMAGE_BYTES {
            return Err(VlError::TooLarge {
                what: format!("a {}×{} random_vl picture", self.width, self.height),
                bytes: file.len(),
            });
        }
        Ok(data_url("image/png", &file))
    }
}

/// Wraps each text prompt of the `random` dataset with pictures.
struct WithPictures<'a> {
    inner: &'a mut dyn PromptSink,
    args: ImageArgs,
    rng: StdRng,
    failed: Option<VlError>,
}

impl PromptSink for WithPictures<'_> {
    fn push(&mut self, prompt: Prompt) -> Result<(), DatasetError> {
        let mut urls = Vec::with_capacity(self.args.num as usize);
        for _ in 0..self.args.num {
            match self.args.picture(&mut self.rng) {
                Ok(u) => urls.push(u),
                Err(e) => {
                    let why = e.to_string();
                    self.failed = Some(e);
                    return Err(DatasetError::Sink(why));
                }
            }
        }
        let image = image_tokens(self.args.width, self.args.height) * self.args.num;
        self.inner.push(Prompt {
            body: message(&prompt.plain_text(), &urls),
            tokens: prompt.tokens.map(|t| t.saturating_add(image)),
        })
    }
}

/// `random_vl`: the prompts of `random` (`spec`, its kind `random`) each with `args.num`
/// pictures; a prompt's `tokens` is its text's plus [`image_tokens`] per picture.
pub fn random_vl(
    spec: &DatasetSpec,
    args: ImageArgs,
    tokenizer: Option<&dyn TokenCounter>,
    sink: &mut dyn PromptSink,
) -> Result<LoadStats, VlError> {
    args.check()?;
    // the pictures' own stream, so the texts are those of `random` with the same seed
    let mut wrap = WithPictures {
        inner: sink,
        args,
        rng: StdRng::seed_from_u64(spec.seed ^ 0x7669_7375_616c),
        failed: None,
    };
    match super::load_into(spec, tokenizer, &mut wrap) {
        Ok(stats) => Ok(stats),
        Err(e) => Err(wrap.failed.take().unwrap_or(VlError::Dataset(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DatasetKind;
    use crate::tokenize::load_tokenizer;

    #[test]
    fn base64_is_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn random_vl_prompts_are_a_text_part_then_pictures() {
        let tok = load_tokenizer("cl100k_base").expect("built in");
        let mut spec = DatasetSpec::new(DatasetKind::Random, None);
        (spec.number, spec.min_prompt_length, spec.max_prompt_length) = (3, 10, 10);
        let args = ImageArgs {
            num: 2,
            width: 60,
            height: 30,
            mode: ImageMode::Rgb,
        };
        let mut out: Vec<Prompt> = Vec::new();
        random_vl(&spec, args, Some(tok.as_ref()), &mut out).expect("made");
        assert_eq!(out.len(), 3);
        // 10 text tokens + 2 pictures of ceil(60/28)·ceil(30/28) = 3·2 patches
        assert_eq!(out[0].tokens, Some(10 + 2 * 6));
        let PromptBody::Messages { messages } = &out[0].body else {
            panic!("messages")
        };
        let content = messages[0]["content"].as_array().expect("parts");
        assert_eq!(messages[0]["role"], "user");
        assert_eq!(content.len(), 3);
        assert_eq!(content[0]["type"], "text");
        assert_eq!(tok.count(content[0]["text"].as_str().expect("text")), 10);
        let url = content[1]["image_url"]["url"].as_str().expect("url");
        let b64 = url
            .strip_prefix("data:image/png;base64,")
            .expect("png data url");
        // the PNG signature, then IHDR with 60×30
        assert!(b64.starts_with("iVBORw0KGgo"));
        assert_ne!(content[1], content[2], "each picture is drawn anew");
        let too_big = ImageArgs {
            width: 8_000,
            height: 8_000,
            ..args
        };
        let err =
            random_vl(&spec, too_big, Some(tok.as_ref()), &mut Vec::new()).expect_err("too large");
        assert!(
            err.to_string()
                .contains("8000×8000: 192000000 bytes of pixels"),
            "{err}"
        );
        assert!(ImageArgs { num: 0, ..args }.check().is_err());
    }
}
