//! The published ShareGPT subset in ../shared/data (not copied into the repo: its license is
//! unclear). Tests skip with a note when it is absent.

use std::path::PathBuf;

use swarm_common::dataset::{DatasetKind, DatasetSpec, load};
use swarm_common::tokenize::load_tokenizer;

fn shared_file(name: &str) -> Option<PathBuf> {
    let path = super::shared::shared_data().join("sharegpt").join(name);
    if path.is_file() {
        Some(path)
    } else {
        super::shared::skipped(
            "common::dataset_sharegpt_real",
            &format!("{} is absent", path.display()),
        );
        None
    }
}

#[test]
fn the_500_subset_loads_every_first_human_turn() {
    let Some(path) = shared_file("ShareGPT_V3_filtered_500.json") else {
        return;
    };
    let out = load(&DatasetSpec::new(DatasetKind::ShareGpt, Some(path)), None).unwrap();
    assert_eq!(out.prompts.len(), 500);
    assert!(out.skipped.is_empty());
    assert_eq!(
        out.prompts[0].plain_text(),
        "How to stop automatic updates from the WSUS Server to a target machine"
    );
}

#[test]
fn the_character_filter_matches_evalscope_on_the_500_subset() {
    let Some(path) = shared_file("ShareGPT_V3_filtered_500.json") else {
        return;
    };
    let mut spec = DatasetSpec::new(DatasetKind::ShareGpt, Some(path));
    spec.max_prompt_length = 100;
    // EvalScope's check_prompt_length keeps min <= len <= max; blank prompts are bad records.
    // Python: sum(0 < len(first_human.strip()) <= 100) == 210.
    assert_eq!(load(&spec, None).unwrap().prompts.len(), 210);
}

#[test]
fn the_1000_subset_counts_tokens_for_every_prompt() {
    let Some(path) = shared_file("ShareGPT_V3_filtered_1000.json") else {
        return;
    };
    let tok = load_tokenizer(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tokenizers/smollm2-135m"
    ))
    .unwrap();
    let out = load(
        &DatasetSpec::new(DatasetKind::ShareGpt, Some(path)),
        Some(tok.as_ref()),
    )
    .unwrap();
    assert_eq!(out.prompts.len(), 1000);
    for p in &out.prompts {
        assert_eq!(p.tokens, Some(tok.count(&p.plain_text()) as u32));
    }
}
