//! An SLA search with `placement: {per_label: KEY}`: one search per label value (a region),
//! each on that region's agents only, against its own target (`perf.label_targets`, else the
//! workload's), into its own workload folder (`layout::per_label_workload`:
//! `perf/<workload>@region=eu-west/`, its stages and `sla_summary.json`), then a table with a
//! row per region.
//!
//! The regions search one after the other: the cluster runs one stage at a time, and each
//! region's probes depend on its own earlier ones, so two searches cannot share a stage.

use std::path::Path;

use comfy_table::Table;
use swarm_common::shard::TargetSpec;
use tokio_util::sync::CancellationToken;

use super::job::PerfJob;
use super::sla_run::{SlaPlan, run_sla};
use super::stage::{Group, StageResult};
use super::sweep::Display;
use crate::cluster::Cluster;
use crate::report::terminal::table;
use crate::run_store::layout::per_label_workload;
use crate::run_store::sla_summary::SlaResult;

/// One region's search.
#[derive(Debug, Clone)]
pub struct RegionSearch {
    /// `key=value` of the placement group.
    pub label: String,
    /// Its workload folder's name (`<workload>@<label>`).
    pub workload: String,
    /// Its stages, in the order run.
    pub results: Vec<StageResult>,
    /// What it found.
    pub result: SlaResult,
}

/// The target group `group` searches: its label value's in `plan.label_targets`, else `default`.
pub fn target_of<'a>(plan: &'a SlaPlan, default: &'a TargetSpec, group: &Group) -> &'a TargetSpec {
    group
        .label
        .as_deref()
        .and_then(|l| l.split_once('='))
        .and_then(|(_, value)| plan.label_targets.get(value))
        .unwrap_or(default)
}

/// Runs one search per placement group, in group order; stops between regions when cancelled.
pub async fn run_per_label(
    cluster: &mut Cluster,
    groups: &[Group],
    job: &PerfJob,
    plan: &SlaPlan,
    run_dir: &Path,
    display: Display,
    cancel: &CancellationToken,
) -> anyhow::Result<Vec<RegionSearch>> {
    let values: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.label.as_deref()?.split_once('=').map(|(_, v)| v))
        .collect();
    for value in plan.label_targets.keys() {
        if !values.contains(&value.as_str()) {
            eprintln!(
                "warning: {}: label_targets names {value:?}, but no agent of this run carries that label value",
                job.name
            );
        }
    }
    let mut out = Vec::new();
    for g in groups {
        if cancel.is_cancelled() {
            break;
        }
        let label = g.label.clone().unwrap_or_default();
        let target = target_of(plan, &job.target, g).clone();
        let region_job = PerfJob {
            name: per_label_workload(&job.name, &label),
            target,
            ..job.clone()
        };
        if display.tables {
            println!(
                "\n{}: SLA search for {label} ({} agent(s)) against {}",
                job.name,
                g.agents.len(),
                region_job.target.url
            );
        }
        let one = std::slice::from_ref(g);
        let ran = run_sla(cluster, one, &region_job, plan, run_dir, display, cancel);
        let (results, result) = ran.await?;
        out.push(RegionSearch {
            label,
            workload: region_job.name,
            results,
            result,
        });
    }
    if display.tables && !out.is_empty() {
        println!("\n{}: SLA auto-tune per region", job.name);
        println!("{}", region_table(&out));
    }
    Ok(out)
}

/// One row per region: its chosen value, probes and each search's note.
pub fn region_table(regions: &[RegionSearch]) -> Table {
    let mut t = table();
    t.set_header(vec![
        "Region", "Variable", "Chosen", "Probes", "Note", "Folder",
    ]);
    for r in regions {
        let notes: Vec<String> = r.result.criteria.iter().map(|a| a.note.clone()).collect();
        t.add_row(vec![
            r.label.clone(),
            r.result.variable.clone(),
            r.result
                .chosen
                .map_or_else(|| "None".into(), |v| v.to_string()),
            r.result.probed.len().to_string(),
            notes.join("; "),
            r.workload.clone(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn target(url: &str) -> TargetSpec {
        let def = crate::plan::model::TargetDef {
            name: "t".into(),
            url: Some(url.into()),
            sim: None,
            model: Some("m".into()),
            api: None,
            api_key: None,
            api_key_env: None,
            api_key_file: None,
            headers: BTreeMap::new(),
            timeouts: Default::default(),
            test_connection: true,
            http2: false,
            http2_connections: 1,
            http2_max_streams: 100,
            tls_ca: None,
        };
        crate::plan::build::target_spec(&def, Path::new(""), &BTreeMap::new()).expect("target")
    }

    const PLAN: &str = r#"version: 1
name: p
targets:
  - {name: eu, url: 'http://127.0.0.1:1/v1', model: m}
  - {name: us, url: 'http://127.0.0.1:2/v1', model: m}
workloads:
  - name: knee
    placement: {per_label: region}
    perf:
      target: eu
      label_targets: {eu-west: eu, us-east: us}
      dataset: {kind: random, number: 4}
      stages: [{parallel: 2}]
      sla: {params: '[{"p99_ttft": "<=0.1"}]'}
"#;

    fn plan_error(text: &str) -> String {
        let path = Path::new("plan.yaml");
        let no_env = std::collections::HashMap::<String, String>::new();
        match crate::plan::parse_plan(text, path, &no_env) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn label_targets_need_a_per_label_sla_search_and_known_targets() {
        assert_eq!(plan_error(PLAN), "");
        let split = plan_error(&PLAN.replace("placement: {per_label: region}", "placement: split"));
        assert!(
            split.contains("perf.label_targets: needs placement"),
            "{split}"
        );
        let sweep = PLAN.replace("      sla: {params: '[{\"p99_ttft\": \"<=0.1\"}]'}\n", "");
        let sweep = plan_error(&sweep.replace("{parallel: 2}", "{parallel: 2, number: 4}"));
        assert!(
            sweep.contains("perf.label_targets: needs perf.sla"),
            "{sweep}"
        );
        let unknown = plan_error(&PLAN.replace("us-east: us", "us-east: ap"));
        assert!(
            unknown.contains("us-east: unknown target \"ap\""),
            "{unknown}"
        );
    }

    #[test]
    fn each_label_value_searches_its_own_target_else_the_workloads() {
        let mut plan = crate::perf::sla_run::tests::plain_plan();
        let eu = target("http://eu.example/v1/chat/completions");
        plan.label_targets.insert("eu-west".into(), eu.clone());
        let default = target("http://all.example/v1/chat/completions");
        let group = |label: &str| Group {
            label: Some(label.into()),
            agents: Vec::new(),
        };
        assert_eq!(target_of(&plan, &default, &group("region=eu-west")), &eu);
        assert_eq!(
            target_of(&plan, &default, &group("region=us-east")),
            &default
        );
        assert_eq!(
            per_label_workload("knee", "region=eu-west"),
            "knee@region=eu-west"
        );
    }
}
