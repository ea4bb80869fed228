//! Vision-language datasets as a run's prompt set: `random_vl` (EvalScope's: `random` text
//! prompts with generated PNG pictures) and `image_folder` (the local equivalent of EvalScope's
//! `flickr8k`). Pictures travel inside chat messages, so the target must speak chat.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use swarm_common::dataset::vl::{self, IMAGE_FOLDER, ImageArgs, ImageMode};
use swarm_common::dataset::{DatasetKind, DatasetSpec};
use swarm_common::shard::{ApiKind, TargetSpec};
use swarm_common::tokenize::load_tokenizer;

use super::job::StageSpec;
use crate::cluster::PromptSet;
use crate::cluster::prompt_set::PromptSetWriter;
use crate::plan::model::PerfDef;

/// The prompts of `p`'s vision-language dataset, in a prompt set in `scratch`.
pub fn load_vl(
    p: &PerfDef,
    target: &TargetSpec,
    stages: &[StageSpec],
    plan_dir: &Path,
    scratch: &Path,
) -> anyhow::Result<Arc<PromptSet>> {
    let d = &p.dataset;
    if target.api != ApiKind::Chat {
        bail!(
            "dataset {}: pictures are sent in chat messages; use a /v1/chat/completions URL",
            d.kind
        );
    }
    let tokenizer = d.tokenizer.as_deref().map(load_tokenizer).transpose()?;
    let mut writer = PromptSetWriter::new_in(scratch)
        .with_context(|| format!("cannot create the prompt set file in {}", scratch.display()))?;
    if d.kind == IMAGE_FOLDER {
        let Some(dir) = &d.path else {
            bail!(
                "dataset {IMAGE_FOLDER}: needs a folder of pictures and captions (path, --dataset-path)"
            );
        };
        let number = d
            .number
            .unwrap_or_else(|| super::job::file_prompt_count(stages, p.warmup));
        vl::image_folder(
            &plan_dir.join(dir),
            number,
            tokenizer.as_deref(),
            &mut writer,
        )?;
    } else {
        let mode = match d.image_format.as_deref() {
            None => ImageMode::Rgb,
            Some(m) => ImageMode::parse(m)
                .with_context(|| format!("--image-format {m}: one of RGB, L, RGBA"))?,
        };
        let def = ImageArgs::default();
        let args = ImageArgs {
            num: d.image_num.unwrap_or(def.num),
            width: d.image_width.unwrap_or(def.width),
            height: d.image_height.unwrap_or(def.height),
            mode,
        };
        let mut spec = DatasetSpec::new(DatasetKind::Random, None);
        if let Some(v) = d.min_prompt_length {
            spec.min_prompt_length = v;
        }
        if let Some(v) = d.max_prompt_length {
            spec.max_prompt_length = v;
        }
        if let Some(v) = d.prefix_length {
            spec.prefix_length = v;
        }
        spec.seed = p.seed;
        spec.number = d
            .number
            .unwrap_or_else(|| super::job::random_prompt_count(stages, p.warmup));
        vl::random_vl(&spec, args, tokenizer.as_deref(), &mut writer)?;
    }
    if writer.is_empty() {
        bail!("dataset {}: no prompts", d.kind);
    }
    let set = writer
        .finish()
        .context("cannot finish the prompt set file")?;
    Ok(Arc::new(set))
}
