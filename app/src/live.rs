//! Watching a run in progress: each running stage's `live.json` (written by the coordinator
//! about once a second) and each eval's predictions so far, as done / total from the eval's
//! `progress.json` where it has one. The page refreshes itself every two seconds.

use std::io::BufRead;
use std::path::Path;

use super::index::live_files;
use super::templates::nav;
use swarm_report::html::escape::{esc, num};
use swarm_report::html::page::{cards, page, table};
use swarm_report::run_data::{read_json, subdirs};
use swarm_store::layout::eval_roots;
use swarm_store::live_file::LiveStatus;
use swarm_store::progress::{ModelProgress, read_progress};

/// One model folder of an eval in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalLive {
    /// The folder, relative to the run.
    pub label: String,
    /// Prediction lines stored so far.
    pub lines: usize,
    /// The eval's own counts, when it writes `progress.json`.
    pub progress: Option<ModelProgress>,
}

/// Predictions stored so far, per eval root and model folder.
pub fn eval_progress(run: &Path) -> Vec<EvalLive> {
    let mut out = Vec::new();
    for root in eval_roots(run) {
        let mut counts = read_progress(&root);
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
            let model = swarm_store::read::name_of(&m);
            out.push(EvalLive {
                label,
                lines: n,
                progress: counts.models.remove(&model),
            });
        }
    }
    out
}

/// `done / total` and the percentage (`-` while the total is unknown or zero).
fn fraction(done: u64, total: Option<u64>) -> (String, String) {
    match total {
        Some(t) if t > 0 => (
            format!("{done} / {t}"),
            format!("{:.1}%", 100.0 * done as f64 / t as f64),
        ),
        Some(t) => (format!("{done} / {t}"), "-".into()),
        None => (format!("{done} / ?"), "-".into()),
    }
}

/// The eval part of the live page: a row per model folder, and per benchmark where the eval
/// counts its items.
fn eval_tables(evals: &[EvalLive]) -> String {
    let mut rows = Vec::new();
    let mut bench_rows = Vec::new();
    for e in evals {
        let (done, pct, state) = match &e.progress {
            Some(p) => {
                let (d, pc) = fraction(p.done(), p.total());
                (d, pc, if p.finished { "finished" } else { "running" })
            }
            None => ("-".to_string(), "-".to_string(), "-"),
        };
        rows.push(vec![
            esc(&e.label),
            e.lines.to_string(),
            esc(&done),
            pct,
            state.to_string(),
        ]);
        for b in e.progress.iter().flat_map(|p| p.benchmarks.iter()) {
            let (d, pc) = fraction(b.done, b.total);
            bench_rows.push(vec![
                esc(&e.label),
                esc(&b.name),
                esc(&d),
                pc,
                b.failed.to_string(),
            ]);
        }
    }
    let mut out = String::from("<h2>Eval progress</h2>");
    out.push_str(&table(
        "live-eval",
        &[
            "folder",
            "prediction lines",
            "done / total",
            "done",
            "state",
        ],
        &rows,
    ));
    if !bench_rows.is_empty() {
        out.push_str(&table(
            "live-eval-benchmarks",
            &["folder", "benchmark", "done / total", "done", "failed"],
            &bench_rows,
        ));
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
    let finished = match swarm_store::record::read(run) {
        Ok(Some(r)) => r.status != swarm_store::record::RunStatus::Running,
        // EvalScope's folders and older runs: a report is written at the end
        _ => run.join(swarm_store::layout::REPORT_HTML).exists(),
    };
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
        body.push_str(&eval_tables(&evals));
    }
    let html = page(&format!("live: {id}"), &nav(Some(id)), &body);
    html.replacen(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">",
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_store::progress::ProgressFile;

    #[test]
    fn an_eval_in_progress_shows_done_of_total() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("eval");
        let preds = root.join("predictions").join("qwen");
        std::fs::create_dir_all(&preds).expect("mkdir");
        std::fs::write(preds.join("gsm8k_main.jsonl"), "{}\n{}\n{}\n").expect("write");
        let benches = vec!["gsm8k".to_string(), "math_500".to_string()];
        let mut p = ProgressFile::new(&root, "qwen", &benches);
        p.planned("gsm8k", 8, 3);
        let html = live_page("r", tmp.path());
        assert!(
            html.contains("<td>eval/predictions/qwen</td><td class=\"n\">3</td><td>3 / ?</td>"),
            "{html}"
        );
        assert!(html.contains("<td>gsm8k</td><td>3 / 8</td><td class=\"n\">37.5%</td>"));
        p.planned("math_500", 2, 0);
        p.finish();
        let html = live_page("r", tmp.path());
        assert!(
            html.contains("<td>3 / 10</td><td class=\"n\">30.0%</td><td>finished</td>"),
            "{html}"
        );
        assert!(html.contains("<td>math_500</td><td>0 / 2</td><td class=\"n\">0.0%</td>"));
    }

    #[test]
    fn an_eval_without_progress_file_shows_its_lines() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let preds = tmp.path().join("eval/predictions/m");
        std::fs::create_dir_all(&preds).expect("mkdir");
        std::fs::write(preds.join("gsm8k_main.jsonl"), "{}\n\n{}\n").expect("write");
        let evals = eval_progress(tmp.path());
        assert_eq!(
            evals,
            vec![EvalLive {
                label: "eval/predictions/m".into(),
                lines: 2,
                progress: None
            }]
        );
    }
}
