//! Runs an SLA auto-tune ([`super::sla`]): each probe a stage on all agents (run
//! `--sla-num-runs` times and averaged), then EvalScope's `sla_summary.json` beside the stages
//! and its probe and summary tables on stdout.

use std::collections::BTreeMap;
use std::path::Path;

use comfy_table::Table;
use serde_json::Value;
use swarm_common::schedule::{Arrival, LoadModel};
use tokio_util::sync::CancellationToken;

use super::job::{PerfJob, StageSpec};
use super::sla::{self, Answer, Criterion, Group, Next, Probe, Range, Variable};
use super::stage::{Group as AgentGroup, StageResult, StageStatus};
use super::sweep::{Display, run_shown};
use crate::cluster::Cluster;
use crate::report::terminal::table;
use crate::run_store::sla_summary::{self as file, ProbeRow, RuleRow, SlaResult};
use crate::run_store::stage_files::write_json;

/// An SLA search, from the flags.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPlan {
    /// The tuned variable.
    pub variable: Variable,
    /// `--sla-params` as given.
    pub params: String,
    /// The criteria groups.
    pub groups: Vec<Group>,
    /// Start and bounds.
    pub range: Range,
    /// Runs per probe.
    pub num_runs: u32,
    /// Concurrency cap of `rate` probes.
    pub fixed_parallel: u32,
    /// `--sla-number-multiplier`.
    pub multiplier: Option<f64>,
    /// Arrival distribution of `rate` probes.
    pub arrival: Arrival,
    /// `--duration`, per probe run.
    pub duration_s: Option<f64>,
    /// With `placement: {per_label: KEY}`: the target of each label value's own search
    /// (`perf.label_targets`, resolved); a value not listed searches the job's target.
    pub label_targets: BTreeMap<String, swarm_common::shard::TargetSpec>,
}

impl SlaPlan {
    /// The stage of run `run` of the probe at `value` (named as EvalScope's folders, with
    /// `_run_<i>` when a probe runs more than once).
    pub fn stage(&self, value: u64, run: u32) -> StageSpec {
        let number = Some(sla::number_for(value, self.multiplier));
        let load = match self.variable {
            Variable::Parallel => LoadModel::Closed {
                concurrency: u32::try_from(value).unwrap_or(u32::MAX),
            },
            Variable::Rate => LoadModel::Open {
                rate: value as f64,
                arrival: self.arrival,
                max_concurrency: Some(self.fixed_parallel),
            },
        };
        let mut s = StageSpec::new(load, number, self.duration_s);
        if self.num_runs > 1 {
            s.name = format!("{}_run_{run}", s.name);
        }
        s
    }
}

/// Runs the search; returns every stage run and the result.
pub async fn run_sla(
    cluster: &mut Cluster,
    groups: &[AgentGroup],
    job: &PerfJob,
    plan: &SlaPlan,
    run_dir: &Path,
    display: Display,
    cancel: &CancellationToken,
) -> anyhow::Result<(Vec<StageResult>, SlaResult)> {
    let job_dir = crate::run_store::layout::perf_workload_dir(run_dir, &job.name);
    std::fs::create_dir_all(&job_dir)?;
    let mut results: Vec<StageResult> = Vec::new();
    let mut known: BTreeMap<u64, Probe> = BTreeMap::new();
    let mut probed: Vec<u64> = Vec::new();
    let mut entries = serde_json::Map::new();
    let mut answers = Vec::new();
    let searches = if sla::optimisation(&plan.groups).is_some() {
        1
    } else {
        plan.groups.len()
    };
    let shown = Display {
        progress: display.progress,
        tables: false,
    };
    let mut cancelled = false;
    'search: for g in 0..searches {
        loop {
            if cancel.is_cancelled() {
                cancelled = true;
                break 'search;
            }
            match sla::next(plan.variable, plan.range, &plan.groups, g, &known) {
                Next::Done(a) => {
                    answers.push(a);
                    break;
                }
                Next::Probe(v) => {
                    let mut runs = Vec::new();
                    let mut files = Vec::new();
                    for run in 0..plan.num_runs {
                        if cancel.is_cancelled() {
                            cancelled = true;
                            break 'search;
                        }
                        let stage = plan.stage(v, run);
                        let on = fewer_agents(groups, &stage);
                        let r =
                            run_shown(cluster, &on, job, &stage, run_dir, shown, cancel).await?;
                        runs.push(probe_of(&r));
                        files.push(evalscope_entry(&r)?);
                        results.push(r);
                    }
                    let p = Probe::average(&runs);
                    if display.tables {
                        println!("{}", probe_line(plan, v, &p));
                    }
                    entries.insert(
                        format!("{}_{v}", plan.variable.name()),
                        average_values(&files),
                    );
                    known.insert(v, p);
                    probed.push(v);
                }
            }
        }
    }
    let chosen = answers.iter().filter_map(|a| a.max_satisfied).max();
    let label = match groups {
        [g] => g.label.clone(),
        _ => None,
    };
    let result = SlaResult {
        variable: plan.variable.name().to_string(),
        sla_params: serde_json::from_str(&plan.params).unwrap_or(Value::Null),
        chosen,
        criteria: answers.iter().map(answer_row).collect(),
        rules: rule_rows(&plan.groups),
        probes: probe_rows(plan, &probed, &known),
        probed,
        num_runs: plan.num_runs,
        range: file::Range {
            start: plan.range.start,
            lower: plan.range.lower,
            upper: plan.range.upper,
        },
        cancelled,
        label,
    };
    let run: Vec<StageSpec> = results.iter().map(|r| r.stage.clone()).collect();
    super::sweep::write_args(job, &run, run_dir)?;
    entries.insert("sla_result".into(), serde_json::to_value(&result)?);
    write_json(&file::path(&job_dir), &Value::Object(entries))?;
    if display.tables {
        println!("\n{}: SLA auto-tune probes", job.name);
        println!("{}", probe_table(plan, &result.probed, &known));
        println!("SLA Auto-tune Summary:");
        println!("{}", summary_table(&answers));
        match result.chosen {
            Some(v) => println!(
                "chosen {} = {v} ({} probe(s))",
                plan.variable.name(),
                result.probed.len()
            ),
            None => println!(
                "no {} in [{}, {}] meets the SLA",
                plan.variable.name(),
                plan.range.lower,
                plan.range.upper
            ),
        }
    }
    Ok((results, result))
}

fn answer_row(a: &Answer) -> file::Answer {
    file::Answer {
        criteria: a.criteria.clone(),
        variable: a.variable.name().to_string(),
        max_satisfied: a.max_satisfied,
        note: a.note.clone(),
        best_metric: a.best_metric,
    }
}

/// Each rule of `groups`: its group, metric, operator and limit.
fn rule_rows(groups: &[Group]) -> Vec<RuleRow> {
    let mut out = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        for r in g {
            let (op, limit) = match r.criterion {
                Criterion::Lt(v) => ("<", Some(v)),
                Criterion::Le(v) => ("<=", Some(v)),
                Criterion::Gt(v) => (">", Some(v)),
                Criterion::Ge(v) => (">=", Some(v)),
                Criterion::Max => ("max", None),
                Criterion::Min => ("min", None),
            };
            out.push(RuleRow {
                group: i,
                metric: r.metric.clone(),
                op: op.to_string(),
                limit,
            });
        }
    }
    out
}

/// Each probe in the order run, with its verdict per criteria group (none when optimising).
fn probe_rows(plan: &SlaPlan, probed: &[u64], known: &BTreeMap<u64, Probe>) -> Vec<ProbeRow> {
    let optimising = sla::optimisation(&plan.groups).is_some();
    probed
        .iter()
        .filter_map(|v| known.get(v).map(|p| (v, p)))
        .map(|(v, p)| ProbeRow {
            value: *v,
            all_succeeded: p.all_succeeded,
            passed: if optimising {
                Vec::new()
            } else {
                plan.groups.iter().map(|g| p.meets(g)).collect()
            },
            values: p.values.clone(),
        })
        .collect()
}

/// The command's outcome: a probe whose requests failed is a finding of the search, not a
/// failure, unless no probe produced a result at all.
pub fn outcome(job: &str, results: &[StageResult]) -> (crate::outcome::Exit, Vec<String>) {
    let measured: Vec<StageResult> = results
        .iter()
        .filter(|r| !matches!(r.status, StageStatus::NoSuccess { .. }))
        .cloned()
        .collect();
    if measured.is_empty() {
        super::sweep::outcome(job, results)
    } else {
        super::sweep::outcome(job, &measured)
    }
}

/// The agents a probe runs on: all of them, or, for a concurrency below a placement group's
/// size (every agent needs one user; each group carries the whole load), the group's first
/// `concurrency`.
fn fewer_agents(groups: &[AgentGroup], stage: &StageSpec) -> Vec<AgentGroup> {
    let LoadModel::Closed { concurrency } = stage.load else {
        return groups.to_vec();
    };
    let most = (concurrency as usize).max(1);
    groups
        .iter()
        .map(|g| AgentGroup {
            label: g.label.clone(),
            agents: g.agents.iter().take(most).cloned().collect(),
        })
        .collect()
}

/// The probe of one stage: whether every request succeeded, and EvalScope's metric values.
fn probe_of(r: &StageResult) -> Probe {
    Probe {
        all_succeeded: r.status == StageStatus::Ok && r.rich.total > 0 && r.rich.failed == 0,
        values: sla::metric_values(&r.rich),
    }
}

/// EvalScope's `{"metrics": <summary>, "percentiles": <columns>}` of one stage.
fn evalscope_entry(r: &StageResult) -> anyhow::Result<Value> {
    let metrics = serde_json::to_value(&r.summary)?;
    let rows = serde_json::to_value(&r.percentiles)?;
    let mut columns = serde_json::Map::new();
    if let Value::Array(rows) = rows {
        for row in rows {
            if let Value::Object(fields) = row {
                for (k, v) in fields {
                    let col = columns.entry(k).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(c) = col {
                        c.push(v);
                    }
                }
            }
        }
    }
    Ok(serde_json::json!({ "metrics": metrics, "percentiles": Value::Object(columns) }))
}

/// Averages runs as EvalScope's `average_results`: numbers averaged (over the runs that have
/// one), lists element by element, anything else taken from the first run.
fn average_values(runs: &[Value]) -> Value {
    let Some(first) = runs.first() else {
        return Value::Null;
    };
    match first {
        Value::Object(m) => Value::Object(
            m.keys()
                .map(|k| {
                    let at: Vec<Value> = runs
                        .iter()
                        .map(|r| r.get(k).cloned().unwrap_or(Value::Null))
                        .collect();
                    (k.clone(), average_values(&at))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            (0..a.len())
                .map(|i| {
                    let at: Vec<Value> = runs
                        .iter()
                        .map(|r| r.get(i).cloned().unwrap_or(Value::Null))
                        .collect();
                    average_values(&at)
                })
                .collect(),
        ),
        Value::Number(_) | Value::Null => {
            let nums: Vec<f64> = runs.iter().filter_map(Value::as_f64).collect();
            if nums.is_empty() {
                first.clone()
            } else if nums.len() == 1 || runs.iter().all(|r| r == first) {
                runs.iter()
                    .find(|r| r.is_number())
                    .cloned()
                    .unwrap_or(Value::Null)
            } else {
                serde_json::Number::from_f64(nums.iter().sum::<f64>() / nums.len() as f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        other => other.clone(),
    }
}

fn fmt(v: Option<&f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.4}"))
}

fn probe_line(plan: &SlaPlan, v: u64, p: &Probe) -> String {
    let verdicts: Vec<String> = verdicts(plan, p);
    format!(
        "SLA probe {}={v}: p99_ttft {} s, avg_latency {} s, rps {}, success {}; {}",
        plan.variable.name(),
        fmt(p.values.get("p99_ttft")),
        fmt(p.values.get("avg_latency")),
        fmt(p.values.get("rps")),
        if p.all_succeeded { "100%" } else { "< 100%" },
        verdicts.join(", ")
    )
}

fn verdicts(plan: &SlaPlan, p: &Probe) -> Vec<String> {
    match sla::optimisation(&plan.groups) {
        Some((metric, _)) => vec![format!("{metric} {}", fmt(p.values.get(metric)))],
        None => plan
            .groups
            .iter()
            .map(|g| {
                format!(
                    "[{}] {}",
                    sla::describe(g),
                    if p.meets(g) { "pass" } else { "FAIL" }
                )
            })
            .collect(),
    }
}

/// One row per probe, in the order run: the value, its requests, EvalScope's main metrics and
/// each criteria group's verdict.
fn probe_table(plan: &SlaPlan, probed: &[u64], known: &BTreeMap<u64, Probe>) -> Table {
    let mut t = table();
    let mut header = vec![
        "#".to_string(),
        plan.variable.name().to_string(),
        "Number".into(),
        "Success".into(),
        "RPS".into(),
        "Gen. tok/s".into(),
        "Avg TTFT(s)".into(),
        "P99 TTFT(s)".into(),
        "Avg TPOT(s)".into(),
        "Avg Lat.(s)".into(),
        "P99 Lat.(s)".into(),
    ];
    header.push("SLA".into());
    t.set_header(header);
    for (i, v) in probed.iter().enumerate() {
        let Some(p) = known.get(v) else { continue };
        let g = |k: &str| fmt(p.values.get(k));
        t.add_row(vec![
            (i + 1).to_string(),
            v.to_string(),
            sla::number_for(*v, plan.multiplier).to_string(),
            if p.all_succeeded { "100%" } else { "< 100%" }.to_string(),
            g("rps"),
            g("tps"),
            g("avg_ttft"),
            g("p99_ttft"),
            g("avg_tpot"),
            g("avg_latency"),
            g("p99_latency"),
            verdicts(plan, p).join("; "),
        ]);
    }
    t
}

/// EvalScope's `SLA Auto-tune Summary`: Criteria, Variable, Max Satisfied, Note.
fn summary_table(answers: &[Answer]) -> Table {
    let mut t = table();
    t.set_header(vec!["Criteria", "Variable", "Max Satisfied", "Note"]);
    for a in answers {
        t.add_row(vec![
            a.criteria.clone(),
            a.variable.name().to_string(),
            a.max_satisfied
                .map_or_else(|| "None".into(), |v| v.to_string()),
            a.note.clone(),
        ]);
    }
    t
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn runs_average_like_evalscope() {
        let a = serde_json::json!({"metrics": {"RPS": 2.0, "N": 10, "name": "x"},
            "percentiles": {"Percentiles": ["50%", "99%"], "TTFT (ms)": [1.0, null]}});
        let b = serde_json::json!({"metrics": {"RPS": 4.0, "N": 10, "name": "y"},
            "percentiles": {"Percentiles": ["50%", "99%"], "TTFT (ms)": [3.0, 5.0]}});
        let avg = average_values(&[a, b]);
        assert_eq!(avg["metrics"]["RPS"], 3.0);
        assert_eq!(avg["metrics"]["N"], 10);
        assert_eq!(avg["metrics"]["name"], "x");
        assert_eq!(avg["percentiles"]["TTFT (ms)"][0], 2.0);
        assert_eq!(avg["percentiles"]["TTFT (ms)"][1], 5.0);
        assert_eq!(avg["percentiles"]["Percentiles"][1], "99%");
    }

    /// A one-run search over parallel 1..=64, no criteria (for tests of the plumbing).
    pub(crate) fn plain_plan() -> SlaPlan {
        SlaPlan {
            variable: Variable::Parallel,
            params: String::new(),
            groups: Vec::new(),
            range: Range::new(1.0, 1, 64).expect("range"),
            num_runs: 1,
            fixed_parallel: 64,
            multiplier: None,
            arrival: Arrival::Poisson,
            duration_s: None,
            label_targets: BTreeMap::new(),
        }
    }

    #[test]
    fn probe_stages_are_named_as_evalscope_folders() {
        let plan = plain_plan();
        assert_eq!(plan.stage(8, 0).name, "parallel_8_number_16");
        let rate = SlaPlan {
            variable: Variable::Rate,
            num_runs: 2,
            multiplier: Some(3.0),
            ..plan
        };
        assert_eq!(rate.stage(4, 1).name, "rate_4_parallel_64_number_12_run_1");
    }
}
