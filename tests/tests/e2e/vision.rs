//! Pictures end to end against llm-sim: `random_vl` (EvalScope's generated pictures) and
//! `image_folder` (local pictures with captions, as EvalScope's `flickr8k`), each request a
//! chat message of a text part and `image_url` data URLs; llm-sim counts a picture as
//! `ceil(h/28)·ceil(w/28)` tokens, so the records' prompt tokens (from `usage`) are exact.

use std::path::Path;

use clap::Parser;
use llm_sim::SimConfig;
use swarm_common::dataset::vl::{self, ImageArgs, ImageMode};
use swarm_common::dataset::{DatasetKind, DatasetSpec};
use swarm_common::prompt::{Prompt, PromptBody};
use swarm_coordinator::cli::Cli;
use swarm_tests::run_dirs::subdirs;
use swarm_tests::start_sim;
use tokio_util::sync::CancellationToken;

/// The one stage's records: (request id, prompt tokens, error).
fn records(out: &Path) -> Vec<(i64, i64, Option<String>)> {
    let runs = subdirs(out);
    let workloads = subdirs(&runs[0].join("perf"));
    let stages = subdirs(&workloads[0]);
    let db = rusqlite::Connection::open(stages[0].join("requests.sqlite")).expect("sqlite");
    let mut q = db
        .prepare("SELECT id, prompt_tokens, error FROM requests ORDER BY id")
        .expect("query");
    q.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

/// llm-sim's word count (whitespace-separated words).
fn words(s: &str) -> i64 {
    s.split_whitespace().count() as i64
}

async fn perf(url: &str, out: &Path, extra: &[&str]) {
    let mut argv = vec![
        "coordinator",
        "perf",
        "--url",
        url,
        "--max-tokens",
        "3",
        "--stream",
        "--outputs-dir",
        out.to_str().expect("utf8"),
    ];
    argv.extend_from_slice(extra);
    let cli = Cli::try_parse_from(argv).expect("flags");
    swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect("run completes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_vl_pictures_count_their_patches_in_usage() {
    let sim = start_sim(SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let flags = [
        "--dataset",
        "random_vl",
        "--tokenizer-path",
        "cl100k_base",
        "--number",
        "4",
        "--min-prompt-length",
        "12",
        "--max-prompt-length",
        "12",
        "--image-num",
        "2",
        "--image-width",
        "60",
        "--image-height",
        "30",
    ];
    perf(&url, &out, &flags).await;
    // the same prompts, made here: their texts' words plus 2 pictures of 3·2 patches each
    let tok = swarm_common::tokenize::load_tokenizer("cl100k_base").expect("tok");
    let mut spec = DatasetSpec::new(DatasetKind::Random, None);
    (spec.number, spec.min_prompt_length, spec.max_prompt_length) = (4, 12, 12);
    let args = ImageArgs {
        num: 2,
        width: 60,
        height: 30,
        mode: ImageMode::Rgb,
    };
    let mut prompts: Vec<Prompt> = Vec::new();
    vl::random_vl(&spec, args, Some(tok.as_ref()), &mut prompts).expect("prompts");
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    for (id, tokens, error) in recs {
        assert_eq!(error, None, "request {id}");
        let p = &prompts[id as usize];
        let PromptBody::Messages { messages } = &p.body else {
            panic!("messages")
        };
        let text = messages[0]["content"][0]["text"].as_str().expect("text");
        assert_eq!(tokens, words(text) + 2 * 6, "request {id}: {text:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_folder_sends_each_picture_with_its_caption() {
    let sim = start_sim(SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("flickr");
    std::fs::create_dir_all(&dir).expect("dir");
    // 57×28 → 3·1 patches; 28×85 → 1·4
    for (key, w, h, caption) in [
        ("a", 57u32, 28u32, "a dog runs"),
        ("b", 28, 85, "two birds on a wire"),
    ] {
        let px = vec![90u8; (w * h * 3) as usize];
        let png = vl::png::encode(w, h, ImageMode::Rgb, &px).expect("png");
        std::fs::write(dir.join(format!("{key}.png")), png).expect("png");
        std::fs::write(dir.join(format!("{key}.txt")), caption).expect("caption");
    }
    let out = tmp.path().join("out");
    let url = format!("{}/v1/chat/completions", sim.url());
    let flags = [
        "--dataset",
        "image_folder",
        "--dataset-path",
        dir.to_str().expect("utf8"),
        "--number",
        "4",
    ];
    perf(&url, &out, &flags).await;
    let recs = records(&out);
    assert_eq!(recs.len(), 4);
    // EvalScope's order: request j sends prompt j mod 2
    let want = [3 + 3, 5 + 4];
    for (id, tokens, error) in recs {
        assert_eq!(error, None, "request {id}");
        assert_eq!(tokens, want[id as usize % 2], "request {id}");
    }
    // a picture too large for a message is refused before any load
    std::fs::write(dir.join("c.png"), vec![0u8; vl::MAX_IMAGE_BYTES + 1]).expect("big");
    std::fs::write(dir.join("c.txt"), "big").expect("caption");
    let out2 = tmp.path().join("out2");
    let argv = [
        "coordinator",
        "perf",
        "--url",
        &url,
        "--dataset",
        "image_folder",
        "--dataset-path",
        dir.to_str().expect("utf8"),
        "--number",
        "4",
        "--outputs-dir",
        out2.to_str().expect("utf8"),
    ];
    let cli = Cli::try_parse_from(argv).expect("flags");
    let err = swarm_coordinator::run(cli, CancellationToken::new())
        .await
        .expect_err("refused");
    assert!(
        format!("{err:#}").contains("c.png is 737281 bytes, more than"),
        "{err:#}"
    );
}
