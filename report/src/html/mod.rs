//! `report.html`: one self-contained page per run (inline CSS and SVG, no scripts, nothing
//! fetched), readable offline and printable. The dashboard serves the same page.

pub mod chart;
pub mod escape;
pub mod eval;
pub mod figure;
pub mod heatmap;
pub mod needle;
pub mod overlay;
pub mod page;
pub mod perf;
pub mod sla;
pub mod think;

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::run_data::{RunData, read_run};

/// The whole report page of a run.
pub fn render(run: &RunData) -> String {
    let mut body = String::new();
    let kinds: Vec<&str> = [
        (!run.perf.is_empty()).then_some("perf"),
        (!run.evals.is_empty()).then_some("eval"),
        (!run.think.is_empty()).then_some("think-eval"),
    ]
    .into_iter()
    .flatten()
    .collect();
    body.push_str(&format!(
        "<p class=\"meta\">run <b>{}</b>{}{} · {}</p>",
        escape::esc(&run.id),
        run.plan
            .as_deref()
            .map(|p| format!(" · plan {}", escape::esc(p)))
            .unwrap_or_default(),
        if run.cancelled { " · cancelled" } else { "" },
        if kinds.is_empty() {
            "no results yet".to_string()
        } else {
            kinds.join(" + ")
        }
    ));
    if let Some(r) = &run.record
        && r.status == swarm_store::record::RunStatus::Failed
    {
        // a failed run says so, and why, before any number
        let outcome = r.outcome.map(|o| o.as_str()).unwrap_or("failed");
        body.push_str(&format!(
            "<div class=\"bad failure run-failed\"><p><strong>FAILED ({})</strong></p><ul>{}</ul></div>",
            escape::esc(outcome),
            r.failures
                .iter()
                .map(|f| format!("<li>{}</li>", escape::esc(f)))
                .collect::<String>()
        ));
    }
    body.push_str(&perf::perf_sections(&run.perf));
    body.push_str(&eval::eval_sections(&run.evals));
    body.push_str(&think::think_sections(&run.think));
    page::page(&format!("swarmbench report: {}", run.id), "", &body)
}

/// Reads `run_dir` and writes its `report.html`; returns the file.
pub fn write_report(run_dir: &Path) -> anyhow::Result<PathBuf> {
    let run = read_run(run_dir)?;
    let path = run_dir.join("report.html");
    std::fs::write(&path, render(&run))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// [`write_report`] for the end of a run: a report that cannot be written is a warning, never a
/// failure of the run that measured it.
pub fn write_report_or_warn(run_dir: &Path) {
    match write_report(run_dir) {
        Ok(p) => println!("report: {}", p.display()),
        Err(e) => eprintln!("warning: no report.html: {e:#}"),
    }
}
