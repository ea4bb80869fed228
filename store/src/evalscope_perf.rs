//! EvalScope's own perf output folders, read through our types:
//! `<run>/<model>/parallel_<P>_number_<N>/{benchmark_summary.json, benchmark_percentile.json}`.
//! Python writes `NaN` and `Infinity` for missing values; they are read as no data.

use std::path::{Path, PathBuf};

use anyhow::Context;
use swarm_common::metrics::evalscope::{PercentileFile, PercentileRow, PerfSummary};

use super::layout::{BENCHMARK_PERCENTILE, BENCHMARK_SUMMARY, EVAL_DIR, PERF_DIR};
use super::read::subdirs;

/// `text` with Python's non-JSON number words (`NaN`, `Infinity`, `-Infinity`) outside strings
/// replaced by `null`.
pub fn strict_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let word = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|w| rest.starts_with(w));
        match word {
            Some(w) => {
                out.push_str("null");
                rest = &rest[w.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    super::read::parse(path, &strict_json(&text))
}

/// A stage folder's `benchmark_summary.json`.
pub fn read_summary(stage_dir: &Path) -> anyhow::Result<PerfSummary> {
    read_file(&stage_dir.join(BENCHMARK_SUMMARY))
}

/// A stage folder's `benchmark_percentile.json`, in our shape or EvalScope's.
pub fn read_percentiles(stage_dir: &Path) -> anyhow::Result<Vec<PercentileRow>> {
    read_file::<PercentileFile>(&stage_dir.join(BENCHMARK_PERCENTILE))
        .map(PercentileFile::into_rows)
}

/// The numbers in a stage folder's name, for ordering `parallel_2_number_20` before
/// `parallel_10_number_100`.
fn numbers(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// EvalScope perf workloads of `run`: (model folder, its stage folders in load order). Our own
/// folders (`perf/`, `eval/`) are not among them.
pub fn workloads(run: &Path) -> Vec<(PathBuf, Vec<PathBuf>)> {
    subdirs(run)
        .into_iter()
        .filter(|m| {
            m.file_name()
                .is_some_and(|n| n != PERF_DIR && n != EVAL_DIR)
        })
        .filter_map(|m| {
            let mut stages: Vec<PathBuf> = subdirs(&m)
                .into_iter()
                .filter(|s| s.join(BENCHMARK_SUMMARY).is_file())
                .collect();
            stages.sort_by_key(|s| {
                let n = s.file_name().map(|n| n.to_string_lossy().into_owned());
                (numbers(n.as_deref().unwrap_or_default()), n)
            });
            (!stages.is_empty()).then_some((m, stages))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_number_words_become_null_outside_strings() {
        assert_eq!(
            strict_json(r#"{"a": NaN, "b": [-Infinity, 1.5, Infinity], "c": "NaN \"x\" NaN"}"#),
            r#"{"a": null, "b": [null, 1.5, null], "c": "NaN \"x\" NaN"}"#
        );
    }

    #[test]
    fn an_evalscope_perf_folder_reads_in_both_percentile_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("20260101_120000");
        for (stage, p) in [("parallel_10_number_100", 10), ("parallel_2_number_20", 2)] {
            let d = run.join("qwen2.5").join(stage);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join(BENCHMARK_SUMMARY),
                format!(
                    r#"{{"Test Duration (s)": 2.0, "Concurrency": {p}, "Request Rate (req/s)": -1,
                    "Total Requests": 20, "Success Requests": 20, "Failed Requests": 0,
                    "Req Throughput (req/s)": 10.0, "Avg Latency (s)": 0.2,
                    "Avg Input Tokens": 30.0, "Output Throughput (tok/s)": 500.0,
                    "Total Throughput (tok/s)": 800.0, "Avg TTFT (ms)": 20.0,
                    "Avg TPOT (ms)": 4.0, "Avg ITL (ms)": NaN, "Avg Output Tokens": 50.0}}"#
                ),
            )
            .unwrap();
        }
        let d = run.join("qwen2.5").join("parallel_2_number_20");
        std::fs::write(
            d.join(BENCHMARK_PERCENTILE),
            r#"{"Percentiles": ["10%", "99%"], "TTFT (ms)": [18.0, 25.0], "ITL (ms)": [NaN, NaN]}"#,
        )
        .unwrap();
        std::fs::create_dir_all(run.join(PERF_DIR).join("x")).unwrap();

        let w = workloads(&run);
        assert_eq!(w.len(), 1, "{w:?}");
        let names: Vec<String> = w[0]
            .1
            .iter()
            .map(|s| s.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["parallel_2_number_20", "parallel_10_number_100"]);
        let s = read_summary(&d).unwrap();
        assert_eq!(s.concurrency, 2);
        assert_eq!(s.avg_itl_ms, None);
        assert_eq!(s.req_throughput, Some(10.0));
        let rows = read_percentiles(&d).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].percentile, "99%");
        assert_eq!(rows[1].ttft_ms, Some(25.0));
        assert_eq!(rows[1].itl_ms, None);
        assert_eq!(rows[1].latency_s, None, "a missing column has no data");

        std::fs::write(d.join(BENCHMARK_SUMMARY), r#"{"Concurrency": "two"}"#).unwrap();
        let e = format!("{:#}", read_summary(&d).unwrap_err());
        assert!(
            e.contains("benchmark_summary.json") && e.contains("Concurrency"),
            "{e}"
        );
    }
}
