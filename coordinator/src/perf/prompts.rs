//! Loading a perf dataset into the run's prompt set: read streaming, written to disk as it is
//! read, so the coordinator's memory does not grow with the file.

use std::sync::Arc;

use anyhow::{Context, bail};
use swarm_common::dataset::{self, DatasetSpec};
use swarm_common::tokenize::TokenCounter;

use crate::cluster::PromptSet;
use crate::cluster::prompt_set::PromptSetWriter;

/// Loads `spec` into a prompt set kept in `scratch` (the outputs folder: writable wherever the
/// run can write its results); `what` names the dataset in messages. Bad records passed over
/// are reported on stderr (the first 20, then a count).
pub fn load_prompt_set(
    spec: &DatasetSpec,
    tokenizer: Option<&dyn TokenCounter>,
    what: &str,
    scratch: &std::path::Path,
) -> anyhow::Result<Arc<PromptSet>> {
    let mut writer = PromptSetWriter::new_in(scratch)
        .with_context(|| format!("cannot create the prompt set file in {}", scratch.display()))?;
    let stats = dataset::load_into(spec, tokenizer, &mut writer)?;
    for e in stats.skipped.iter().take(20) {
        eprintln!("warning: {what}: skipped bad dataset record: {e}");
    }
    if stats.skipped_total > 20 {
        eprintln!(
            "warning: {what}: {} more bad records skipped",
            stats.skipped_total - 20
        );
    }
    if writer.is_empty() {
        bail!("{what}: the dataset yielded no prompts (after the length filter)");
    }
    let set = writer
        .finish()
        .context("cannot finish the prompt set file")?;
    tracing::info!(
        prompts = set.len(),
        bytes = set.bytes(),
        set = %set.id(),
        "prompt set ready"
    );
    Ok(Arc::new(set))
}
