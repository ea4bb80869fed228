//! The dashboard on a large run: a synthetic eval run of many samples, served by `coordinator
//! app`'s own server over loopback; the time to the first page of samples right after the app
//! started (the run is still being indexed), then warm pages, filters and a text search.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::Context;
use swarm_coordinator::app::{AppArgs, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::app_fixture::eval_run_sized;

/// One GET over a fresh connection; returns the body length.
async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<usize> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let head = String::from_utf8_lossy(&buf[..buf.len().min(64)]).into_owned();
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
    Ok(buf.len())
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
    let cancel = CancellationToken::new();
    let addr = serve(
        &AppArgs {
            outputs_dir: dir.clone(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            allow_remote: false,
        },
        cancel.clone(),
    )
    .await?;
    let base = format!("/runs/{id}/samples");
    let pages = [
        (
            "first page right after start (waits for the index)",
            base.clone(),
        ),
        ("first page, warm", base.clone()),
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
    ];
    for (label, path) in pages {
        let t = Instant::now();
        let n = get(addr, &path).await?;
        println!(
            "app: {label}: {:.0} ms ({} KiB)",
            t.elapsed().as_secs_f64() * 1e3,
            n / 1024
        );
    }
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
