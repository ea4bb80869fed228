//! `perf.multi_turn` checked against the rest of the workload: the field to blame and why.

use swarm_common::dataset::DatasetKind;
use swarm_common::multi_turn::{MAX_TURNS, MultiTurnSpec};

use super::model::PerfDef;

/// The multi-turn datasets, for messages.
const DATASETS: &str =
    "random_multi_turn, share_gpt_en_multi_turn, share_gpt_zh_multi_turn, custom_multi_turn";

/// Why `p`'s multi-turn settings (or their absence) do not fit its dataset, as (field under the
/// workload, message). `kind` is the parsed `perf.dataset.kind`.
pub fn check(p: &PerfDef, kind: DatasetKind) -> Result<(), (&'static str, String)> {
    let Some(m) = &p.multi_turn else {
        if kind.is_multi_turn() {
            return Err((
                "perf.multi_turn",
                format!(
                    "dataset {kind} holds whole conversations: needs multi_turn (--multi-turn)"
                ),
            ));
        }
        return Ok(());
    };
    if !kind.is_multi_turn() {
        return Err((
            "perf.dataset.kind",
            format!(
                "multi_turn (--multi-turn) needs a multi-turn dataset ({DATASETS}), got {kind}"
            ),
        ));
    }
    if m.min_turns > MAX_TURNS {
        return Err((
            "perf.multi_turn.min_turns",
            format!("must be at most {MAX_TURNS}, got {}", m.min_turns),
        ));
    }
    match m.max_turns {
        Some(0) => {
            return Err((
                "perf.multi_turn.max_turns",
                "must be at least 1, got 0".into(),
            ));
        }
        Some(n) if n > MAX_TURNS => {
            return Err((
                "perf.multi_turn.max_turns",
                format!("must be at most {MAX_TURNS}, got {n}"),
            ));
        }
        Some(n) if n < m.min_turns.max(1) => {
            return Err((
                "perf.multi_turn.max_turns",
                format!(
                    "--max-turns ({n}) must be >= --min-turns ({})",
                    m.min_turns.max(1)
                ),
            ));
        }
        None if kind == DatasetKind::RandomMultiTurn => {
            return Err((
                "perf.multi_turn.max_turns",
                "random_multi_turn needs max_turns (--max-turns): the most turns of a conversation"
                    .into(),
            ));
        }
        _ => {}
    }
    spec(m).check().map_err(|why| {
        let field = "perf.multi_turn.think_time_s";
        (field, why.trim_start_matches("think_time_s ").to_string())
    })?;
    if !p.sqlite {
        return Err((
            "perf.sqlite",
            "multi_turn: the per-turn table is computed from the per-request records, which --no-sqlite (sqlite: false) turns off".into(),
        ));
    }
    Ok(())
}

/// What the agents run.
pub fn spec(m: &super::model::MultiTurnDef) -> MultiTurnSpec {
    MultiTurnSpec {
        think_time_s: m.think_time_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perf(extra: &str) -> PerfDef {
        let yaml = format!("target: t\nstages: [{{parallel: 2, number: 4}}]\n{extra}");
        serde_norway::from_str(&yaml).expect("perf def")
    }

    fn kind(p: &PerfDef) -> DatasetKind {
        p.dataset.kind.parse().expect("kind")
    }

    #[test]
    fn multi_turn_and_its_datasets_go_together() {
        let p = perf("dataset: {kind: random_multi_turn}\n");
        assert_eq!(
            check(&p, kind(&p)).expect_err("no multi_turn").0,
            "perf.multi_turn"
        );
        let p = perf("dataset: {kind: random}\nmulti_turn: {max_turns: 2}\n");
        let e = check(&p, kind(&p)).expect_err("single-turn dataset");
        assert_eq!(e.0, "perf.dataset.kind");
        assert!(e.1.contains("custom_multi_turn"), "{}", e.1);
        let p = perf("dataset: {kind: custom_multi_turn}\nmulti_turn: {}\n");
        assert_eq!(check(&p, kind(&p)), Ok(()));
    }

    #[test]
    fn turn_bounds_and_think_time_are_checked_by_field() {
        let bad = [
            (
                "dataset: {kind: random_multi_turn}\nmulti_turn: {}\n",
                "perf.multi_turn.max_turns",
            ),
            (
                "dataset: {kind: random_multi_turn}\nmulti_turn: {min_turns: 3, max_turns: 2}\n",
                "perf.multi_turn.max_turns",
            ),
            (
                "dataset: {kind: custom_multi_turn}\nmulti_turn: {max_turns: 0}\n",
                "perf.multi_turn.max_turns",
            ),
            (
                "dataset: {kind: custom_multi_turn}\nmulti_turn: {think_time_s: -1}\n",
                "perf.multi_turn.think_time_s",
            ),
            (
                "dataset: {kind: custom_multi_turn}\nmulti_turn: {}\nsqlite: false\n",
                "perf.sqlite",
            ),
        ];
        for (yaml, field) in bad {
            let p = perf(yaml);
            assert_eq!(check(&p, kind(&p)).expect_err(yaml).0, field, "{yaml}");
        }
        let p = perf(
            "dataset: {kind: random_multi_turn}\nmulti_turn: {min_turns: 2, max_turns: 2, think_time_s: 0.5}\n",
        );
        assert_eq!(check(&p, kind(&p)), Ok(()));
    }
}
