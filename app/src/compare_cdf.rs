//! The distributions of runs compared, overlaid: for every stage that two or more runs share, the
//! TTFT and latency CDFs of each run on one chart (read from the stages' HdrHistograms).

use swarm_report::html::overlay::cdf_overlay;
use swarm_report::run_data::{RunData, StageData};

/// The metrics overlaid, by the file name of their histogram.
const METRICS: [&str; 2] = ["ttft", "latency"];

/// Each stage name with the runs' stages of that name (first workload holding it), in the order
/// the names first appear; only names two or more runs share.
fn shared_stages(runs: &[RunData]) -> Vec<(String, Vec<(&str, &StageData)>)> {
    let mut out: Vec<(String, Vec<(&str, &StageData)>)> = Vec::new();
    for r in runs {
        let mut seen: Vec<&str> = Vec::new();
        for s in r.perf.iter().flat_map(|w| w.stages.iter()) {
            if seen.contains(&s.name.as_str()) {
                continue;
            }
            seen.push(&s.name);
            match out.iter_mut().find(|(n, _)| *n == s.name) {
                Some((_, list)) => list.push((&r.id, s)),
                None => out.push((s.name.clone(), vec![(&r.id, s)])),
            }
        }
    }
    out.retain(|(_, list)| list.len() >= 2);
    out
}

/// The overlaid CDF charts of `runs`, or nothing when no stage is shared.
pub fn cdf_overlays(runs: &[RunData]) -> String {
    let mut charts = String::new();
    for (stage, list) in shared_stages(runs) {
        let sides: Vec<(&str, &[swarm_report::cdf::Cdf])> = list
            .iter()
            .map(|(run, s)| (*run, s.cdfs.as_slice()))
            .collect();
        for metric in METRICS {
            if let Some(chart) =
                cdf_overlay(&format!("{metric} CDF, stage {stage}"), metric, &sides, 2)
            {
                charts.push_str(&chart);
            }
        }
    }
    if charts.is_empty() {
        return charts;
    }
    format!(
        "<section class=\"compare-cdf\"><h3>Distributions of the stages they share</h3><div class=\"charts\">{charts}</div></section>"
    )
}
