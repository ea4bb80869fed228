//! The fault matrix: `swarm-faults [--out DIR] [--only endpoint|agent|coordinator|hostile]` runs every
//! row against the real binaries (build them first: `cargo build --release --workspace --bins`)
//! and prints the markdown table kept in docs/RELIABILITY.md. Exits 1 when a row fails.
//! `swarm-faults --soak MINUTES [--rate R]` runs the soak instead (scripts/soak.sh).

use std::path::PathBuf;

use clap::Parser;
use swarm_tests::faults::{Row, agents, coordinator, endpoint, hostile, markdown, soak};

#[derive(Debug, Parser)]
#[command(about = "run the fault matrix and print it as a markdown table")]
struct Args {
    /// Where each scenario keeps its plans, logs and outputs.
    #[arg(long, default_value = "target/fault-matrix")]
    out: PathBuf,
    /// Only this group of rows.
    #[arg(long, value_parser = ["endpoint", "agent", "coordinator", "hostile"])]
    only: Option<String>,
    /// The gsm8k records the coordinator row and the hostile eval rows evaluate (humaneval is
    /// read beside it).
    #[arg(long, default_value = "eval/tests/fixtures/eval/gsm8k/test.jsonl")]
    gsm8k: PathBuf,
    /// Run the soak for this many minutes instead of the matrix.
    #[arg(long, value_name = "MINUTES")]
    soak: Option<f64>,
    /// The soak's arrival rate, requests per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let out = args.out.canonicalize()?;
    if let Some(minutes) = args.soak {
        let (md, ok) = soak::run(&out.join("soak"), minutes, args.rate).await?;
        print!("{md}");
        if !ok {
            std::process::exit(1);
        }
        return Ok(());
    }
    let gsm8k = args.gsm8k.canonicalize()?;
    let want = |g: &str| args.only.as_deref().is_none_or(|o| o == g);
    let mut rows: Vec<Row> = Vec::new();
    if want("endpoint") {
        let dir = out.clone();
        rows.extend(tokio::task::spawn_blocking(move || endpoint::run(&dir)).await?);
    }
    if want("agent") {
        rows.extend(agents::run(&out).await);
    }
    if want("coordinator") {
        rows.extend(coordinator::run(&out.join("coordinator"), &gsm8k).await);
    }
    if want("hostile") {
        rows.extend(hostile::run(&out, &gsm8k).await);
    }
    print!("{}", markdown(&rows));
    let failed = rows.iter().filter(|r| !r.pass).count();
    eprintln!(
        "{} rows, {failed} failed; scenario files under {}",
        rows.len(),
        out.display()
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
