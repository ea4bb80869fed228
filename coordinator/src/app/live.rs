//! Watching a run in progress: each running stage's `live.json` (written by the coordinator
//! about once a second) and the predictions an eval has stored so far. The page refreshes
//! itself every two seconds.

use std::io::BufRead;
use std::path::Path;

use super::index::{eval_roots, live_files};
use super::templates::nav;
use crate::perf::live_file::LiveStatus;
use crate::report::html::escape::{esc, num};
use crate::report::html::page::{cards, page, table};
use crate::report::run_data::{read_json, subdirs};

/// Predictions stored so far, per eval root and model folder: (label, lines).
pub fn eval_progress(run: &Path) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for root in eval_roots(run) {
        for m in subdirs(&root.join("predictions")) {
            let mut n = 0;
            for f in std::fs::read_dir(&m).into_iter().flatten().flatten() {
                if let Ok(file) = std::fs::File::open(f.path()) {
                    n += std::io::BufReader::new(file)
                        .lines()
                        .map_while(Result::ok)
                        .filter(|l| !l.trim().is_empty())
                        .count();
                }
            }
            let label = m
                .strip_prefix(run)
                .unwrap_or(&m)
                .to_string_lossy()
                .into_owned();
            out.push((label, n));
        }
    }
    out
}

/// The live page of the run folder `run` called `id`.
pub fn live_page(id: &str, run: &Path) -> String {
    let mut body = String::new();
    let stages: Vec<LiveStatus> = live_files(run)
        .iter()
        .filter_map(|p| read_json(p).ok())
        .collect();
    let finished = run.join("run.json").exists() || run.join("report.html").exists();
    body.push_str(&format!(
        "<p id=\"live-state\">{}</p>",
        if !stages.is_empty() {
            "running"
        } else if finished {
            "finished"
        } else {
            "no stage running"
        }
    ));
    for s in &stages {
        body.push_str(&format!(
            "<section class=\"live-stage\"><h2>{} / {}</h2>",
            esc(&s.workload),
            esc(&s.stage)
        ));
        body.push_str(&cards(&[
            (
                "requests",
                match s.planned {
                    Some(p) => format!("{} / {p}", s.total),
                    None => s.total.to_string(),
                },
            ),
            ("failed", s.failed.to_string()),
            ("req/s", num(s.req_per_s)),
            ("output tok/s", num(s.output_tok_per_s)),
            ("p99 TTFT (ms)", num(s.ttft_p99_ms)),
            ("agents", s.agents.to_string()),
            ("elapsed (s)", format!("{:.1}", s.elapsed_s)),
        ]));
        body.push_str("</section>");
    }
    let evals = eval_progress(run);
    if !evals.is_empty() {
        let rows: Vec<Vec<String>> = evals
            .iter()
            .map(|(l, n)| vec![esc(l), n.to_string()])
            .collect();
        body.push_str("<h2>Eval predictions stored</h2>");
        body.push_str(&table("live-eval", &["folder", "predictions"], &rows));
    }
    let html = page(&format!("live: {id}"), &nav(Some(id)), &body);
    html.replacen(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">",
        1,
    )
}
