//! The SLA search itself (EvalScope's, see [`super::sla`]): given the probes measured so far,
//! which value to probe next or the answer. Pure, so it is tested without a cluster.

use std::collections::BTreeMap;

use serde::Serialize;

use super::sla::{Criterion, Group, Probe, Variable, describe};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    /// First value probed (`--parallel` / `--rate`, clamped into the bounds).
    pub start: u64,
    /// `--sla-lower-bound`.
    pub lower: u64,
    /// `--sla-upper-bound`.
    pub upper: u64,
}

impl Range {
    /// A range, the start clamped into `[lower, upper]`.
    pub fn new(start: f64, lower: u64, upper: u64) -> anyhow::Result<Self> {
        if lower < 1 || upper < lower {
            anyhow::bail!(
                "--sla-lower-bound ({lower}) must be at least 1 and at most --sla-upper-bound ({upper})"
            );
        }
        let s = if start.is_finite() { start } else { 0.0 };
        let start = (s.max(lower as f64).min(upper as f64)) as u64;
        Ok(Range {
            start,
            lower,
            upper,
        })
    }
}

/// The result of one search (a row of EvalScope's `SLA Auto-tune Summary`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// The criteria, described.
    pub criteria: String,
    /// The tuned variable.
    pub variable: Variable,
    /// The largest value meeting the criteria (the best value in optimisation mode); None when
    /// even the lower bound failed.
    pub max_satisfied: Option<u64>,
    /// `Satisfied`, `Failed at lower bound (1)`, `Best tps: 123.4`.
    pub note: String,
    /// Optimisation mode: the metric's best value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_metric: Option<f64>,
}

/// What the search wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Measure this value of the variable.
    Probe(u64),
    /// The search is over.
    Done(Answer),
}

/// The optimisation target when `groups` is one group of one `max` / `min` rule.
pub fn optimisation(groups: &[Group]) -> Option<(&str, bool)> {
    match groups {
        [g] => match g.as_slice() {
            [r] => match r.criterion {
                Criterion::Max => Some((r.metric.as_str(), true)),
                Criterion::Min => Some((r.metric.as_str(), false)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The next step of the search for `group` given what `known` has measured so far (a pure
/// replay of EvalScope's algorithm: the first value it would need that is not known yet, or
/// the answer).
pub fn next(
    variable: Variable,
    range: Range,
    groups: &[Group],
    group: usize,
    known: &BTreeMap<u64, Probe>,
) -> Next {
    let result = match (optimisation(groups), groups.get(group)) {
        (Some((metric, max)), _) => optimise(variable, range, metric, max, known),
        (None, Some(g)) => constrain(variable, range, g, known),
        (None, None) => Ok(Answer {
            criteria: String::new(),
            variable,
            max_satisfied: None,
            note: "no such criteria group".into(),
            best_metric: None,
        }),
    };
    match result {
        Ok(a) => Next::Done(a),
        Err(v) => Next::Probe(v),
    }
}

/// Constraint mode; `Err(v)`: `v` must be measured first.
fn constrain(
    variable: Variable,
    range: Range,
    group: &Group,
    known: &BTreeMap<u64, Probe>,
) -> Result<Answer, u64> {
    let check = |v: u64| known.get(&v).map(|p| p.meets(group)).ok_or(v);
    let Range {
        start,
        lower: lb,
        upper: ub,
    } = range;
    let answer = |best: Option<u64>, note: String| Answer {
        criteria: describe(group),
        variable,
        max_satisfied: best,
        note,
        best_metric: None,
    };
    let (mut lower, mut upper);
    if check(start)? {
        lower = start;
        upper = start.saturating_mul(2).min(ub);
        loop {
            if !check(upper)? {
                break;
            }
            lower = upper;
            if upper == ub {
                break;
            }
            upper = upper.saturating_mul(2).min(ub);
        }
    } else {
        upper = start;
        lower = (start / 2).max(lb);
        let mut found = false;
        loop {
            if check(lower)? {
                found = true;
                break;
            }
            upper = lower;
            if lower == lb {
                break;
            }
            lower = (lower / 2).max(lb);
        }
        if !found {
            return Ok(answer(None, format!("Failed at lower bound ({lb})")));
        }
    }
    // bisect between the last value that passed and the first that failed
    let mut best = lower;
    let (mut left, mut right) = (lower + 1, upper.saturating_sub(1));
    if check(upper)? {
        best = upper;
        left = right + 1;
    }
    while left <= right {
        let mid = left + (right - left) / 2;
        if check(mid)? {
            best = mid;
            left = mid + 1;
        } else {
            right = mid - 1;
        }
    }
    Ok(answer(Some(best), "Satisfied".into()))
}

/// Optimisation mode; `Err(v)`: `v` must be measured first.
fn optimise(
    variable: Variable,
    range: Range,
    metric: &str,
    max: bool,
    known: &BTreeMap<u64, Probe>,
) -> Result<Answer, u64> {
    // as EvalScope's: a metric without data counts as 0
    let value = |v: u64| {
        known
            .get(&v)
            .map(|p| p.values.get(metric).copied().unwrap_or(0.0))
            .ok_or(v)
    };
    let better = |a: f64, b: f64| if max { a > b } else { a < b };
    let mut curr = range.start;
    let mut best_val = curr;
    let mut best = value(curr)?;
    let mut lower = curr;
    let mut upper = None;
    loop {
        let mut next = curr.saturating_mul(2);
        if next > range.upper {
            if curr < range.upper {
                next = range.upper;
            } else {
                break;
            }
        }
        if next == curr {
            break;
        }
        let v = value(next)?;
        if better(v, best) {
            best = v;
            best_val = next;
            curr = next;
            lower = curr;
            if curr == range.upper {
                break;
            }
        } else {
            upper = Some(next);
            break;
        }
    }
    if let Some(u) = upper.filter(|u| *u > lower) {
        let (mut left, mut right) = (lower, u);
        while left + 1 < right {
            let mid = left + (right - left) / 2;
            let v = value(mid)?;
            if better(v, best) {
                best = v;
                best_val = mid;
                left = mid;
            } else {
                right = mid;
            }
        }
    }
    Ok(Answer {
        criteria: format!("{metric} -> {}", if max { "max" } else { "min" }),
        variable,
        max_satisfied: Some(best_val),
        note: format!("Best {metric}: {best:.4}"),
        best_metric: Some(best),
    })
}

/// Requests per probe: `round(value × multiplier)`, at least 1 (EvalScope's; multiplier 2 when
/// `--sla-number-multiplier` is not given).
pub fn number_for(value: u64, multiplier: Option<f64>) -> u64 {
    let m = multiplier.unwrap_or(2.0);
    ((value as f64 * m).round() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::sla::parse_params;
    use crate::perf::sla::tests::probe;

    /// Runs the search against `measure` until it is done; returns the answer and the values
    /// probed, in order.
    fn search(
        range: Range,
        groups: &[Group],
        group: usize,
        measure: impl Fn(u64) -> Probe,
    ) -> (Answer, Vec<u64>) {
        let mut known = BTreeMap::new();
        let mut order = Vec::new();
        loop {
            match next(Variable::Parallel, range, groups, group, &known) {
                Next::Probe(v) => {
                    assert!(!known.contains_key(&v), "{v} probed twice");
                    assert!((range.lower..=range.upper).contains(&v), "{v} out of range");
                    order.push(v);
                    known.insert(v, measure(v));
                }
                Next::Done(a) => return (a, order),
            }
        }
    }

    /// A server with `knee` slots: p99 TTFT is flat up to the knee, then grows with the queue.
    fn knee_curve(knee: u64) -> impl Fn(u64) -> Probe {
        move |p| {
            let ttft = if p <= knee {
                0.05
            } else {
                0.05 + 0.2 * (p - knee) as f64 / knee as f64 + 0.1
            };
            probe(&[("p99_ttft", ttft)])
        }
    }

    fn range(start: f64, lower: u64, upper: u64) -> Range {
        Range::new(start, lower, upper).expect("range")
    }

    #[test]
    fn finds_the_knee_within_ten_percent_in_eight_probes() {
        let groups = parse_params(r#"[{"p99_ttft": "<=100ms"}]"#).expect("parses");
        for knee in [3u64, 6, 8, 12, 20, 37, 50, 100] {
            let start = (knee / 4).max(1) as f64;
            let (a, probes) = search(range(start, 1, 65536), &groups, 0, knee_curve(knee));
            let found = a.max_satisfied.expect("found");
            let err = (found as f64 - knee as f64).abs() / knee as f64;
            assert!(err <= 0.1, "knee {knee}: found {found} after {probes:?}");
            if knee <= 12 {
                assert!(probes.len() <= 8, "knee {knee}: {probes:?}");
            }
            assert_eq!(a.note, "Satisfied");
        }
        // from EvalScope's default start (1), a knee of 6: 1 2 4 8, then 6 7
        let (a, probes) = search(range(1.0, 1, 65536), &groups, 0, knee_curve(6));
        assert_eq!(a.max_satisfied, Some(6));
        assert_eq!(probes, vec![1, 2, 4, 8, 6, 7]);
    }

    #[test]
    fn a_failing_start_halves_down_then_bisects() {
        let groups = parse_params(r#"[{"p99_ttft": "<=0.1"}]"#).expect("parses");
        let (a, probes) = search(range(64.0, 1, 65536), &groups, 0, knee_curve(10));
        assert_eq!(a.max_satisfied, Some(10));
        assert_eq!(&probes[..4], &[64, 32, 16, 8]);
        assert!(probes.len() <= 8, "{probes:?}");
    }

    #[test]
    fn bounds_are_respected() {
        let groups = parse_params(r#"[{"p99_ttft": "<=0.1"}]"#).expect("parses");
        // the knee above the upper bound: the upper bound itself is the answer
        let (a, probes) = search(range(1.0, 1, 20), &groups, 0, knee_curve(100));
        assert_eq!(a.max_satisfied, Some(20));
        assert_eq!(probes, vec![1, 2, 4, 8, 16, 20]);
        // even the lower bound fails
        let (a, probes) = search(range(8.0, 4, 64), &groups, 0, knee_curve(2));
        assert_eq!(a.max_satisfied, None);
        assert_eq!(a.note, "Failed at lower bound (4)");
        assert_eq!(probes, vec![8, 4]);
        // the start is clamped into the range
        assert_eq!(range(0.0, 2, 10).start, 2);
        assert_eq!(range(500.0, 2, 10).start, 10);
        assert!(Range::new(1.0, 0, 10).is_err());
        assert!(Range::new(1.0, 11, 10).is_err());
    }

    #[test]
    fn failed_requests_fail_the_probe() {
        let groups = parse_params(r#"[{"p99_ttft": "<=0.1"}]"#).expect("parses");
        let (a, _) = search(range(1.0, 1, 64), &groups, 0, |p| {
            let mut pr = probe(&[("p99_ttft", 0.01)]);
            pr.all_succeeded = p <= 5;
            pr
        });
        assert_eq!(a.max_satisfied, Some(5));
    }

    #[test]
    fn groups_are_searched_independently_and_share_probes() {
        let groups =
            parse_params(r#"[{"p99_ttft": "<=0.1"}, {"p99_ttft": "<=0.2"}]"#).expect("parses");
        let mut known = BTreeMap::new();
        let curve = knee_curve(8);
        let mut answers = Vec::new();
        for g in 0..groups.len() {
            loop {
                match next(Variable::Parallel, range(1.0, 1, 1000), &groups, g, &known) {
                    Next::Probe(v) => {
                        known.insert(v, curve(v));
                    }
                    Next::Done(a) => {
                        answers.push(a.max_satisfied);
                        break;
                    }
                }
            }
        }
        // 0.2 s allows (p - 8) / 8 * 0.2 + 0.15 <= 0.2: p <= 10
        assert_eq!(answers, vec![Some(8), Some(10)]);
    }

    #[test]
    fn optimisation_finds_the_peak_and_the_trough() {
        // throughput rises to a peak at 40 and falls after it
        let tps = |p: u64| {
            let x = p as f64;
            probe(&[
                ("tps", 1000.0 - (x - 40.0).powi(2)),
                ("avg_latency", (x - 40.0).powi(2)),
            ])
        };
        let groups = parse_params(r#"[{"tps": "max"}]"#).expect("parses");
        let (a, probes) = search(range(1.0, 1, 65536), &groups, 0, tps);
        let best = a.max_satisfied.expect("best");
        assert!((36..=44).contains(&best), "{best} after {probes:?}");
        assert!(a.note.starts_with("Best tps: "), "{}", a.note);
        assert_eq!(a.criteria, "tps -> max");
        let groups = parse_params(r#"[{"avg_latency": "min"}]"#).expect("parses");
        let (a, _) = search(range(1.0, 1, 65536), &groups, 0, tps);
        let best = a.max_satisfied.expect("best");
        assert!((36..=44).contains(&best), "{best}");
        // a monotone metric: the search stops at the upper bound
        let groups = parse_params(r#"[{"rps": "max"}]"#).expect("parses");
        let (a, probes) = search(range(1.0, 1, 50), &groups, 0, |p| {
            probe(&[("rps", p as f64)])
        });
        assert_eq!(a.max_satisfied, Some(50));
        assert_eq!(probes, vec![1, 2, 4, 8, 16, 32, 50]);
    }

    #[test]
    fn number_follows_the_multiplier() {
        assert_eq!(number_for(8, None), 16);
        assert_eq!(number_for(8, Some(1.5)), 12);
        assert_eq!(number_for(1, Some(0.1)), 1);
    }
}
