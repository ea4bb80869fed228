//! A `speed_benchmark` stage's `speed_benchmark.json` (EvalScope's `speed_benchmark_result`):
//! per server-reported prompt-token count, the mean output speed of the successful requests.
//!
//! EvalScope computes `ROUND(AVG(completion_tokens / latency), 2)` in SQLite over requests with
//! `success = 1 AND latency > 0`, grouped by `prompt_tokens`. Its `latency` column is `REAL`
//! (seconds), so the division is a float division; the mean is over per-request ratios, not
//! total tokens over total time. Its GPU memory column is measured only for a local model; for
//! an endpoint it has no value, written here as `null`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One row: EvalScope's list-of-objects shape, with its keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedRow {
    /// Prompt tokens the server reported.
    #[serde(rename = "Prompt Tokens")]
    pub prompt_tokens: u64,
    /// Mean of completion tokens over latency (s) per request, rounded to 2 decimals.
    #[serde(rename = "Speed(tokens/s)")]
    pub speed: f64,
    /// Peak GPU memory (GB); None: not measured (a remote endpoint).
    #[serde(rename = "GPU Memory(GB)")]
    pub gpu_memory_gb: Option<f64>,
}

/// Rounds like SQLite's `ROUND(x, 2)` (half away from zero).
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Groups successful requests as `(prompt_tokens, completion_tokens, latency_s)` by prompt
/// tokens, in increasing order. Requests with `latency_s <= 0` are left out. Memory holds one
/// sum per distinct prompt-token count.
pub fn group(requests: impl IntoIterator<Item = (u64, u64, f64)>) -> Vec<SpeedRow> {
    let mut groups: BTreeMap<u64, (f64, u64)> = BTreeMap::new();
    for (prompt, completion, latency_s) in requests {
        if latency_s > 0.0 && latency_s.is_finite() {
            let g = groups.entry(prompt).or_default();
            g.0 += completion as f64 / latency_s;
            g.1 += 1;
        }
    }
    groups
        .into_iter()
        .map(|(prompt_tokens, (sum, n))| SpeedRow {
            prompt_tokens,
            speed: round2(sum / n as f64),
            gpu_memory_gb: None,
        })
        .collect()
}

/// The rows of the stage whose per-request records are `sqlite` (`requests.sqlite`): successful
/// requests (no error) streamed from the file, grouped by [`group`].
pub fn from_sqlite(sqlite: &Path) -> anyhow::Result<Vec<SpeedRow>> {
    let what = || format!("cannot read {}", sqlite.display());
    let conn =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
    let mut stmt = conn
        .prepare(
            "SELECT prompt_tokens, completion_tokens, latency_us FROM requests \
             WHERE error IS NULL AND latency_us > 0",
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
    let rows = stmt
        .query_map([], |r| {
            let p: i64 = r.get(0)?;
            let c: i64 = r.get(1)?;
            let l: i64 = r.get(2)?;
            Ok((
                u64::try_from(p).unwrap_or(0),
                u64::try_from(c).unwrap_or(0),
                l as f64 / 1e6,
            ))
        })
        .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
    let mut err = None;
    let out = group(rows.map_while(|r| match r {
        Ok(v) => Some(v),
        Err(e) => {
            err = Some(e);
            None
        }
    }));
    match err {
        Some(e) => Err(anyhow::anyhow!("{}: {e}", what())),
        None => Ok(out),
    }
}

/// Writes `rows` as `speed_benchmark.json` in `stage_dir`.
pub fn write(stage_dir: &Path, rows: &[SpeedRow]) -> anyhow::Result<()> {
    let path = stage_dir.join(crate::layout::SPEED_BENCHMARK_JSON);
    crate::stage_files::write_json_atomic(&path, &rows)
}

/// The stage's `speed_benchmark.json`; None when it has none.
pub fn read(stage_dir: &Path) -> anyhow::Result<Option<Vec<SpeedRow>>> {
    crate::read::optional(&stage_dir.join(crate::layout::SPEED_BENCHMARK_JSON))
}

/// `rows` as a terminal table; a missing GPU memory shows as `–`.
pub fn table(rows: &[SpeedRow]) -> String {
    let head = ["Prompt Tokens", "Speed(tokens/s)", "GPU Memory(GB)"];
    let cells: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            [
                r.prompt_tokens.to_string(),
                format!("{:.2}", r.speed),
                r.gpu_memory_gb
                    .map_or_else(|| "–".to_string(), |g| format!("{g:.2}")),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([head[i].len()])
            .max()
            .unwrap_or(0)
    };
    let w = [width(0), width(1), width(2)];
    let line = |c: [&str; 3]| {
        let pad = |s: &str, n: usize| format!("{s}{}", " ".repeat(n - s.chars().count().min(n)));
        format!(
            "| {} | {} | {} |\n",
            pad(c[0], w[0]),
            pad(c[1], w[1]),
            pad(c[2], w[2])
        )
    };
    let rule = format!(
        "+{}+{}+{}+\n",
        "-".repeat(w[0] + 2),
        "-".repeat(w[1] + 2),
        "-".repeat(w[2] + 2)
    );
    let mut out = format!("Speed Benchmark Results:\n{rule}{}{rule}", line(head));
    for c in &cells {
        out.push_str(&line([&c[0], &c[1], &c[2]]));
    }
    out.push_str(&rule);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_prompt_tokens_mean_of_ratios_rounded() {
        // prompt 7: 10/0.5 = 20 and 9/0.4 = 22.5 -> mean 21.25
        // prompt 3: 16/3 = 5.333.. and 0 latency (left out) -> 5.33
        // prompt 900: 2/0.3 = 6.666.., 1/0.3 = 3.333.., 5/1.0 = 5 -> 15/3 = 5.0
        let rows = group([
            (7, 10, 0.5),
            (900, 2, 0.3),
            (3, 16, 3.0),
            (7, 9, 0.4),
            (3, 100, 0.0),
            (900, 1, 0.3),
            (900, 5, 1.0),
        ]);
        let got: Vec<(u64, f64)> = rows.iter().map(|r| (r.prompt_tokens, r.speed)).collect();
        assert_eq!(got, [(3, 5.33), (7, 21.25), (900, 5.0)]);
        assert!(rows.iter().all(|r| r.gpu_memory_gb.is_none()));
        // the mean of ratios, not total tokens over total time (19 / 0.9 = 21.11)
        assert_ne!(rows[1].speed, 21.11);
    }

    #[test]
    fn writes_evalscope_keys_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rows = group([(5, 8, 0.25), (1, 3, 2.0)]);
        write(dir.path(), &rows).expect("written");
        let text = std::fs::read_to_string(dir.path().join("speed_benchmark.json")).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            v,
            serde_json::json!([
                {"Prompt Tokens": 1, "Speed(tokens/s)": 1.5, "GPU Memory(GB)": null},
                {"Prompt Tokens": 5, "Speed(tokens/s)": 32.0, "GPU Memory(GB)": null},
            ])
        );
        assert_eq!(read(dir.path()).expect("parsed"), Some(rows.clone()));
        let t = table(&rows);
        assert!(
            t.contains("| 5             | 32.00           | –              |"),
            "{t}"
        );
    }

    #[test]
    fn reads_the_stage_records() {
        use swarm_common::metrics::{ErrorClass, RequestRecord};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("requests.sqlite");
        let w = crate::sqlite::RecordWriter::open(&path).expect("open");
        let rec = |id, prompt_tokens, completion_tokens, latency_us| RequestRecord {
            id,
            latency_us,
            prompt_tokens,
            completion_tokens,
            status: 200,
            ..Default::default()
        };
        let mut failed = rec(3, 4, 50, 1_000_000);
        failed.error = Some(ErrorClass::Http5xx);
        w.write(
            "s",
            vec![
                rec(0, 4, 8, 2_000_000),
                rec(1, 4, 2, 1_000_000),
                rec(2, 9, 1, 0),
                failed,
            ],
        )
        .expect("queued");
        w.finish().expect("flushed");
        let rows = from_sqlite(&path).expect("rows");
        // prompt 4: (4 + 2) / 2 = 3; prompt 9 has latency 0 and is left out
        assert_eq!(
            rows,
            [SpeedRow {
                prompt_tokens: 4,
                speed: 3.0,
                gpu_memory_gb: None
            }]
        );
    }
}
