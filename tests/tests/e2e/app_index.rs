//! The dashboard's sample index on disk: built on the first samples request, kept beside the run
//! and reused by the next dashboard, rebuilt when the run's files change; runs without eval
//! samples get no index.

use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use swarm_coordinator::app::samples::{INDEX_FILE, open_index};
use swarm_tests::app_fixture::{correct, eval_run, perf_run};
use tokio_util::sync::CancellationToken;

use crate::app_http::start;

const RUN: &str = "20261128_010000_eval-index";
const SAMPLES: usize = 300;

async fn body(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

fn matched(html: &str) -> usize {
    let at = html.find("data-matched=\"").expect("a sample count") + 14;
    html[at..]
        .split('"')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

fn modified(p: &Path) -> SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .expect("index file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_index_is_kept_reused_and_rebuilt_when_the_run_changes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = eval_run(tmp.path(), RUN, "idx-model", SAMPLES).expect("run");
    perf_run(tmp.path(), "20261128_000000_perf", "p", &[1], 10).expect("perf run");
    let index = run.join(INDEX_FILE);
    assert!(!index.exists());

    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let (status, html) = body(addr, &format!("/runs/{RUN}/samples?correct=yes")).await;
    assert_eq!(status, 200, "{html}");
    let want = (0..SAMPLES).filter(|i| correct(*i)).count();
    assert_eq!(matched(&html), want, "{html}");
    assert!(html.contains(&format!("of {SAMPLES} samples")), "{html}");
    assert!(index.is_file(), "the index is kept beside the run");
    let built = modified(&index);
    // a perf run has no samples: a clear 404, and no index file is made for it
    let (status, html) = body(addr, "/runs/20261128_000000_perf/samples").await;
    assert_eq!(status, 404, "{html}");
    assert!(html.contains("holds no eval predictions"), "{html}");
    assert!(
        !tmp.path()
            .join("20261128_000000_perf")
            .join(INDEX_FILE)
            .exists()
    );
    cancel.cancel();

    // a second dashboard opens the same index without rebuilding it
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let (_, html) = body(addr, &format!("/runs/{RUN}/samples?dataset=gsm8k")).await;
    assert_eq!(matched(&html), SAMPLES / 2, "even samples are gsm8k");
    assert_eq!(modified(&index), built, "reused, not rebuilt");

    // one more prediction (and its review): the index is stale and rebuilt on the next request
    let line = serde_json::json!({
        "index": "extra", "messages": [{"role": "user", "content": "an added question"}],
        "model_output": {"choices": [{"message": {"content": "added answer"}}]},
    });
    let review = serde_json::json!({
        "index": "extra", "target": "gold-extra",
        "sample_score": {"score": {"value": {"acc": 1.0}, "main_score_name": "acc"}},
    });
    for (kind, l) in [("predictions", &line), ("reviews", &review)] {
        let f = run.join(format!("eval/{kind}/idx-model/gsm8k_main.jsonl"));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(f)
            .expect("open");
        writeln!(f, "{l}").expect("append");
    }
    assert!(open_index(&run).expect("opens").is_none(), "stale now");
    let (_, html) = body(addr, &format!("/runs/{RUN}/samples?q=ADDED+QUESTION")).await;
    assert_eq!(matched(&html), 1, "{html}");
    assert!(html.contains("gold-extra") && html.contains("added answer"));
    assert_ne!(modified(&index), built, "rebuilt");
    assert_eq!(
        open_index(&run).expect("opens").map(|s| s.total),
        Some(SAMPLES + 1)
    );
    cancel.cancel();
}
