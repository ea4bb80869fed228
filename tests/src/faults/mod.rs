//! The fault matrix: each row injects one fault into a real run (llm-sim, `coordinator` and
//! `agent` processes on loopback), reads what the run reported, and says what was lost — which
//! must be nothing already measured. `swarm-faults` runs it and prints the markdown table that
//! docs/RELIABILITY.md keeps.

pub mod agents;
pub mod coordinator;
pub mod endpoint;
pub mod procs;
pub mod proxy;
pub mod soak;
pub mod summary;

use std::fmt::Write as _;

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    /// endpoint | agent | coordinator.
    pub group: &'static str,
    /// What was injected.
    pub injected: String,
    /// What a correct run reports.
    pub expected: String,
    /// What this run reported.
    pub observed: String,
    /// What was lost of what had been measured ("nothing" when the row passes).
    pub lost: String,
    /// Whether observed meets expected and nothing was lost.
    pub pass: bool,
}

impl Row {
    /// A row for a scenario that could not run at all.
    pub fn broken(group: &'static str, injected: &str, expected: &str, err: &anyhow::Error) -> Row {
        Row {
            group,
            injected: injected.to_owned(),
            expected: expected.to_owned(),
            observed: format!("scenario failed: {err:#}"),
            lost: "unknown".to_owned(),
            pass: false,
        }
    }
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| group | injected | expected | observed | lost | result |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            r.group,
            cell(&r.injected),
            cell(&r.expected),
            cell(&r.observed),
            cell(&r.lost),
            if r.pass { "pass" } else { "**FAIL**" }
        );
    }
    s
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
