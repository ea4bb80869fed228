//! Hostile peers (issue 17): an endpoint that answers with an event-stream line that never ends
//! or a body that never ends, an agent that speaks the protocol to cheat or to break the
//! coordinator, and a run that asks an agent to run model-written code without isolation. Each
//! must be contained: classified or refused, with nothing already measured lost.

mod agent;
mod endpoint;
mod rogue;
mod unsandboxed;

use std::path::Path;

use super::Row;
use endpoint::Endless;

/// The agents' bearer token in every hostile scenario.
const TOKEN: &str = "fault-matrix-token-0123456789abcdef";

/// Runs every hostile row under `dir`; `gsm8k` is the fixture's test file.
pub async fn run(dir: &Path, gsm8k: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for kind in [Endless::Line, Endless::Body] {
        let d = dir.join(format!("hostile-{}", kind.slug()));
        rows.push(
            tokio::task::spawn_blocking(move || endpoint::row(kind, &d))
                .await
                .unwrap_or_else(|e| {
                    Row::broken(
                        "hostile",
                        kind.injected(),
                        "",
                        &anyhow::anyhow!("the scenario panicked: {e}"),
                    )
                }),
        );
    }
    rows.push(agent::perf_row(&dir.join("hostile-agent-perf")).await);
    rows.push(agent::eval_row(&dir.join("hostile-agent-eval"), gsm8k).await);
    rows.push(unsandboxed::row(&dir.join("hostile-unsandboxed"), gsm8k).await);
    rows
}

/// A scenario folder, emptied of what an earlier invocation left.
fn fresh(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("token"), TOKEN)?;
    Ok(())
}
