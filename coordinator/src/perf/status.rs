//! What a stage's end looks like: whether it produced a result, why it stopped, how it reached
//! its target.

use super::shards::{Book, ShardStatus};

pub use swarm_store::stage_status::StageStatus;

/// The failures of `c`, most frequent first: `connect ×10 (e.g. ...)`.
pub fn top_errors(c: &swarm_common::metrics::aggregate::Counters) -> String {
    let mut classes: Vec<(&String, &u64)> = c.errors.iter().collect();
    classes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    classes
        .iter()
        .take(3)
        .map(|(class, n)| match c.error_examples.get(*class) {
            Some(example) => format!("{class} ×{n} (e.g. {example})"),
            None => format!("{class} ×{n}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether the stage produced a result (`stop_note`: why it was stopped, if it was).
pub(super) fn stage_status(book: &Book, cancelled: bool, stop_note: Option<&str>) -> StageStatus {
    let (c, shards) = (&book.whole.counters, &book.shards);
    let done = shards
        .values()
        .any(|s| matches!(s.status, ShardStatus::Done(_)));
    let lost = shards.values().any(|s| s.status == ShardStatus::Lost);
    let failures: Vec<&String> = shards
        .values()
        .filter_map(|s| match &s.status {
            ShardStatus::Failed(r) => Some(r),
            _ => None,
        })
        .collect();
    let reason = match (failures.first(), stop_note) {
        _ if cancelled => return StageStatus::Cancelled,
        _ if !done && lost => {
            let n = c.total;
            let reason =
                format!("no agent finished its shard ({n} requests reported before the losses)");
            return StageStatus::AgentsLost { reason };
        }
        _ if c.success > 0 => return StageStatus::Ok,
        _ if c.total > 0 => format!("all {} requests failed: {}", c.total, top_errors(c)),
        (Some(first), _) => {
            let (n, of) = (failures.len(), shards.len());
            format!("no request was sent: {n} of {of} shards failed, the first: {first}")
        }
        (None, Some(note)) => format!("no request was sent: {note}"),
        (None, None) => "no request was sent".to_string(),
    };
    StageStatus::NoSuccess { reason }
}

/// One line on how the stage reached its target: version and connections over the agents.
pub fn link_line(book: &Book) -> Option<String> {
    let (mut connections, mut http, mut agents) = (0, None, std::collections::BTreeSet::new());
    for s in book.shards.values() {
        if let Some(l) = s.link {
            connections += l.connections;
            http = http.or(l.http);
            agents.insert(s.agent.as_str());
        }
    }
    let http = http?.as_str();
    let n = agents.len();
    Some(format!(
        "{http}, {connections} connection{} from {n} agent{}",
        if connections == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" }
    ))
}

/// How a stop reason is written in the stage files (`count`, `duration`, `cancelled`).
pub fn stop_label(stop: swarm_proto::StopReason) -> &'static str {
    match stop {
        swarm_proto::StopReason::Count => "count",
        swarm_proto::StopReason::Duration => "duration",
        swarm_proto::StopReason::Cancelled => "cancelled",
        swarm_proto::StopReason::Unspecified => "unspecified",
    }
}

/// How the stage's shards ended, in a few words (`count (after re-assignment)`).
pub(super) fn stop_reason(book: &Book) -> String {
    let mut reasons: Vec<String> = book
        .shards
        .values()
        .map(|s| match &s.status {
            ShardStatus::Done(r) => stop_label(*r).to_string(),
            ShardStatus::Failed(_) => "failed".into(),
            ShardStatus::Lost => "agent lost".into(),
            ShardStatus::Running => "running".into(),
        })
        .collect();
    reasons.sort();
    reasons.dedup();
    match reasons.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["count"] => "count".into(),
        ["agent lost", "count"] => "count (after re-assignment)".into(),
        _ => reasons.join(", "),
    }
}
