//! The fault matrix: each row injects one fault into a real run (llm-sim, `coordinator` and
//! `agent` processes on loopback), reads what the run reported, and says what was lost — which
//! must be nothing already measured. `swarm-faults` runs it and prints the markdown table that
//! docs/RELIABILITY.md keeps.

pub mod agents;
pub mod coordinator;
pub mod endpoint;
pub mod grpc;
pub mod hostile;
pub mod procs;
pub mod proxy;
pub mod soak;
pub mod summary;

use std::fmt::Write as _;

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    /// endpoint | agent | coordinator | hostile.
    pub group: &'static str,
    /// What was injected.
    pub injected: String,
    /// What a correct run reports.
    pub expected: String,
    /// What this run reported.
    pub observed: String,
    /// The shortfall of what the results count against what the run was to measure ("nothing"
    /// when the row passes). For agent rows re-assignment tops it up: see `agent_loss`.
    pub lost: String,
    /// For agent rows: what the faulted agent measured and never reported, what it had in
    /// flight, and what was re-assigned.
    pub agent_loss: Option<AgentLoss>,
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
            agent_loss: None,
            pass: false,
        }
    }
}

/// What a faulted agent's shard did, from llm-sim's truth log (requests carry
/// `x-request-id: <shard>-<index>`) and the stage's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentLoss {
    /// The lost shard ("" when no loss was noted).
    pub shard: String,
    /// Measured requests of the shard that llm-sim answered in full (over the whole run).
    pub served: u64,
    /// Requests the shard had reported to the coordinator before it was declared lost.
    pub counted: u64,
    /// Requests it reported after the loss, discarded (their budget had been re-assigned).
    pub discarded: u64,
    /// Requests of the shard llm-sim had received before the fault and not finished by then.
    pub in_flight: u64,
    /// The budget re-assigned to the other agents.
    pub reassigned: u64,
}

impl AgentLoss {
    /// Measured (answered in full) but not in the results.
    pub fn unreported(&self) -> u64 {
        self.served.saturating_sub(self.counted)
    }
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| group | injected | expected | observed | count shortfall | measured, not reported | in flight at the fault | re-assigned | result |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let (unreported, in_flight, reassigned) = match &r.agent_loss {
            Some(l) if !l.shard.is_empty() => (
                format!(
                    "{} (answered in full {} − reported before the loss {}; {} reported late, discarded)",
                    l.unreported(),
                    l.served,
                    l.counted,
                    l.discarded
                ),
                l.in_flight.to_string(),
                l.reassigned.to_string(),
            ),
            Some(_) => ("no loss noted".into(), "—".into(), "—".into()),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.group,
            cell(&r.injected),
            cell(&r.expected),
            cell(&r.observed),
            cell(&r.lost),
            unreported,
            in_flight,
            reassigned,
            if r.pass { "pass" } else { "**FAIL**" }
        );
    }
    s
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
