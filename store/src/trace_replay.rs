//! A trace replay stage's `trace_replay.json`: how far each request's actual send was from its
//! scheduled one (the trace's time at the replay speed, on the stage's clock), from the stage's
//! `requests.sqlite`. Percentiles are nearest-rank over every record with a schedule (the value
//! at rank `ceil(p/100 · n)`), computed by SQLite's sort so memory does not grow with the trace.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// The send-time error of a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceReplay {
    /// The replay speed (line times divided by it).
    pub speed: f64,
    /// Requests sent (with a schedule).
    pub requests: u64,
    /// Actual minus scheduled send, ms; None without requests.
    pub send_error_ms: SendError,
}

/// Nearest-rank statistics of the send-time error, ms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendError {
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
    /// Mean.
    pub mean: Option<f64>,
}

/// The nearest rank (1-based) of percentile `p` among `n` values.
pub fn nearest_rank(p: f64, n: u64) -> u64 {
    ((p / 100.0 * n as f64).ceil() as u64).clamp(1, n.max(1))
}

/// The replay at `speed` whose records are `sqlite`.
pub fn from_sqlite(sqlite: &Path, speed: f64) -> anyhow::Result<TraceReplay> {
    let what = || format!("cannot read {}", sqlite.display());
    let conn =
        rusqlite::Connection::open_with_flags(sqlite, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
    let (n, mean, max): (i64, Option<f64>, Option<i64>) = conn
        .query_row(
            "SELECT COUNT(*), AVG(sent_us - scheduled_us), MAX(sent_us - scheduled_us) \
             FROM requests WHERE scheduled_us IS NOT NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
    let n = u64::try_from(n).unwrap_or(0);
    let at = |p: f64| -> anyhow::Result<Option<f64>> {
        if n == 0 {
            return Ok(None);
        }
        let offset = i64::try_from(nearest_rank(p, n) - 1).unwrap_or(i64::MAX);
        let v: i64 = conn
            .query_row(
                "SELECT sent_us - scheduled_us AS e FROM requests WHERE scheduled_us IS NOT NULL \
                 ORDER BY e LIMIT 1 OFFSET ?1",
                [offset],
                |r| r.get(0),
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", what()))?;
        Ok(Some(v as f64 / 1e3))
    };
    Ok(TraceReplay {
        speed,
        requests: n,
        send_error_ms: SendError {
            p50: at(50.0)?,
            p99: at(99.0)?,
            max: max.map(|m| m as f64 / 1e3),
            mean: mean.map(|m| m.round() / 1e3),
        },
    })
}

/// Writes `replay` as `trace_replay.json` in `stage_dir`.
pub fn write(stage_dir: &Path, replay: &TraceReplay) -> anyhow::Result<()> {
    let path = stage_dir.join(crate::layout::TRACE_REPLAY_JSON);
    crate::stage_files::write_json_atomic(&path, replay)
}

/// The stage's `trace_replay.json`; None when it has none.
pub fn read(stage_dir: &Path) -> anyhow::Result<Option<TraceReplay>> {
    crate::read::optional(&stage_dir.join(crate::layout::TRACE_REPLAY_JSON))
}

/// One line for the terminal; missing values show as `–`.
pub fn line(r: &TraceReplay) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.3} ms"));
    let e = &r.send_error_ms;
    format!(
        "Trace replay at speed {}: {} requests; send-time error (actual − scheduled) p50 {}, p99 {}, max {}",
        r.speed,
        r.requests,
        ms(e.p50),
        ms(e.p99),
        ms(e.max)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::RecordWriter;
    use swarm_common::metrics::RequestRecord;

    #[test]
    fn statistics_are_nearest_rank_over_the_records() {
        assert_eq!(nearest_rank(50.0, 4), 2);
        assert_eq!(nearest_rank(99.0, 4), 4);
        assert_eq!(nearest_rank(50.0, 1), 1);
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("requests.sqlite");
        let w = RecordWriter::open(&path).expect("open");
        let recs: Vec<RequestRecord> = [(0, 1500), (1000, 1200), (2000, 2100), (3000, 9000)]
            .into_iter()
            .enumerate()
            .map(|(i, (s, t))| RequestRecord {
                id: i as u64,
                scheduled_us: Some(s),
                sent_us: t,
                ..Default::default()
            })
            .chain([RequestRecord {
                id: 9,
                sent_us: 5,
                ..Default::default()
            }])
            .collect();
        w.write("a", recs).expect("write");
        w.finish().expect("finish");
        let r = from_sqlite(&path, 2.0).expect("read");
        // errors 1500, 200, 100, 6000 µs; the unscheduled record is left out
        assert_eq!(r.requests, 4);
        assert_eq!(r.send_error_ms.p50, Some(0.2));
        assert_eq!(r.send_error_ms.p99, Some(6.0));
        assert_eq!(r.send_error_ms.max, Some(6.0));
        assert_eq!(r.send_error_ms.mean, Some(1.95));
        write(dir.path(), &r).expect("write");
        assert_eq!(read(dir.path()).expect("read"), Some(r.clone()));
        assert!(line(&r).contains("p50 0.200 ms"), "{}", line(&r));
    }
}
