//! The dashboard on a large run: a synthetic eval run of many samples, indexed as the coordinator
//! does when an eval ends, served by `coordinator app`'s own server over loopback; the time to the
//! first page of samples right after the app started, then pages, filters and a text search; and
//! a run that has no index yet (an EvalScope folder): the first answer and the time until its
//! index is ready.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use swarm_coordinator::app::{AppArgs, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::app_fixture::{eval_run_scored, eval_run_sized};

/// The dashboard over `dir` on a free loopback port until `cancel`.
async fn start(dir: &std::path::Path, cancel: &CancellationToken) -> anyhow::Result<SocketAddr> {
    serve(
        &AppArgs {
            outputs_dir: dir.to_path_buf(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
        },
        cancel.clone(),
    )
    .await
}

/// One GET over a fresh connection; returns the response's length and text.
async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<(usize, String)> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).into_owned();
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    Ok((buf.len(), String::from_utf8_lossy(&buf).into_owned()))
}

/// Runs the benchmark over `samples` samples with about `reasoning_bytes` of reasoning each.
pub async fn app(samples: usize, reasoning_bytes: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("swarm-app-bench-{}", std::process::id()));
    let id = "20261127_000000_big-eval";
    let t = Instant::now();
    let run = eval_run_sized(&dir, id, "big-model", samples, reasoning_bytes)
        .context("cannot write the synthetic run")?;
    let bytes: u64 = walk_size(&run.join("eval/predictions"));
    println!(
        "app: synthetic run of {samples} samples ({:.0} MiB of predictions) written in {:.1} s",
        bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let store = swarm_coordinator::app::samples::build_index(
        &run,
        &swarm_coordinator::app::samples::Progress::default(),
    )?;
    let index = run.join(swarm_coordinator::app::samples::INDEX_FILE);
    println!(
        "app: index of {} samples built in {:.1} s ({:.0} MiB), as `coordinator eval` does at its end",
        store.total,
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&index).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0
    );
    // a second model's run of the same samples (right on every second one) to pair with
    let other = "20261127_010000_big-eval-b";
    let run_b = eval_run_scored(&dir, other, "big-model-b", samples, reasoning_bytes, |i| {
        i.is_multiple_of(2)
    })
    .context("cannot write the second synthetic run")?;
    swarm_coordinator::app::samples::build_index(
        &run_b,
        &swarm_coordinator::app::samples::Progress::default(),
    )?;
    let cancel = CancellationToken::new();
    let addr = start(&dir, &cancel).await?;
    let base = format!("/runs/{id}/samples");
    let pairs = format!("/compare/samples?a={id}&b={other}");
    // the 100th line of the second prediction file
    let one = swarm_coordinator::app::samples::store::row_id(1, 100);
    let pages = [
        ("first page right after start", base.clone()),
        ("first page again", base.clone()),
        ("page 2,500", format!("{base}?page=2500")),
        (
            "dataset + subset + correct filter",
            format!("{base}?dataset=math_500&subset=Level%203&correct=no"),
        ),
        (
            "text search (one match)",
            format!("{base}?q=question+99999%3A"),
        ),
        ("runs list", "/".to_string()),
        (
            "one sample's page (unfiltered steps)",
            format!("{base}/{one}"),
        ),
        (
            "one sample's page (steps within a filter)",
            format!("{base}/{one}?dataset=math_500&correct=no"),
        ),
        (
            "one sample's page (steps within a text search)",
            format!("{base}/{one}?q=question+99999%3A"),
        ),
        (
            "download of every sample as JSON lines",
            format!("/runs/{id}/samples.jsonl"),
        ),
        (
            "two models side by side (100,000 pairs counted, first page)",
            pairs.clone(),
        ),
        (
            "two models side by side, page 1,000 of the disagreements",
            format!("{pairs}&page=1000"),
        ),
    ];
    let mut first_page = None;
    for (label, path) in pages {
        let t = Instant::now();
        let (n, _) = get(addr, &path).await?;
        first_page.get_or_insert(t.elapsed().as_secs_f64());
        println!(
            "app: {label}: {:.0} ms ({} KiB)",
            t.elapsed().as_secs_f64() * 1e3,
            n / 1024
        );
    }
    cancel.cancel();
    super::goal(
        "first samples page under a second (with an index)",
        first_page.is_some_and(|s| s < 1.0),
    );

    // the same run with no index: a fresh dashboard answers at once with the indexing progress
    std::fs::remove_file(&index)?;
    let cancel = CancellationToken::new();
    let addr = start(&dir, &cancel).await?;
    let t = Instant::now();
    let (_, body) = get(addr, &base).await?;
    let first_answer = t.elapsed().as_secs_f64();
    println!(
        "app: no index yet, first answer: {:.0} ms ({})",
        first_answer * 1e3,
        if body.contains("id=\"indexing\"") {
            "indexing progress"
        } else {
            "samples"
        }
    );
    loop {
        let (_, body) = get(addr, &base).await?;
        if body.contains("id=\"sample-count\"") {
            break;
        }
        anyhow::ensure!(t.elapsed().as_secs() < 600, "no index after 10 minutes");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    println!(
        "app: no index yet, samples shown after {:.1} s",
        t.elapsed().as_secs_f64()
    );
    super::goal(
        "first answer under a second with no index (the indexing progress page)",
        first_answer < 1.0,
    );
    cancel.cancel();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                walk_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}
