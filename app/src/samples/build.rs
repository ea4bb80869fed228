//! Building a run's sample index: every prediction line read once (files in parallel), joined
//! with its review, and written to SQLite — filter columns, where each line lies in its file,
//! and a lower-cased search text. Written to a temporary file and renamed into place, so a
//! reader sees the old index or the new one, never half of one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use rusqlite::{Connection, params};

use super::parse::{FileOrigin, PredictionLine, SampleKey, into_row, key, review};
use super::store::{SCHEMA, SCHEMA_VERSION, row_id};
use super::{IndexError, Signature, signature, signature_text};
use swarm_store::layout::eval_files;

/// How far a build has got (read by the dashboard's "indexing" page).
#[derive(Debug, Default)]
pub struct Progress {
    /// Prediction files to read.
    pub files_total: AtomicUsize,
    /// Prediction files read.
    pub files_done: AtomicUsize,
    /// Samples indexed so far.
    pub rows_done: AtomicUsize,
}

/// At most this many unreadable lines are kept (all are counted); the dashboard shows the
/// first of those kept.
const SKIPPED_KEPT: usize = 100;

/// One prediction file and the review file beside it.
struct Job {
    predictions: PathBuf,
    reviews: PathBuf,
}

/// One indexed line.
struct Entry {
    line: usize,
    dataset: String,
    subset: String,
    model: String,
    index: String,
    repeat: u32,
    score: Option<f64>,
    correct: bool,
    offset: u64,
    len: u64,
    review: Option<(u64, u64)>,
    search: String,
}

/// What a worker made of one job.
struct Part {
    job: usize,
    entries: Vec<Entry>,
    skipped: Vec<String>,
}

fn jobs(run: &Path) -> Vec<Job> {
    let job = |(predictions, reviews)| Job {
        predictions,
        reviews,
    };
    eval_files(run).into_iter().map(job).collect()
}

/// Calls `each(line_number, offset, length, text)` for every line of `path` (1-based numbers,
/// byte offsets of the line without its newline); lines that are not UTF-8 get `Err`.
fn lines_of(
    path: &Path,
    mut each: impl FnMut(usize, u64, u64, Result<&str, ()>),
) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let mut buf = Vec::new();
    let mut offset = 0u64;
    let mut n = 0;
    loop {
        buf.clear();
        let read = r.read_until(b'\n', &mut buf)?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        each(
            n,
            offset,
            body.len() as u64,
            std::str::from_utf8(body).map_err(|_| ()),
        );
        offset += read as u64;
    }
}

fn read_job(i: usize, job: &Job) -> Part {
    let mut reviews: HashMap<SampleKey, (u64, u64, swarm_store::eval_lines::ReviewLine)> =
        HashMap::new();
    // a missing review file is a run not scored yet: its predictions are shown unscored
    let _ = lines_of(&job.reviews, |_, off, len, line| {
        if let Ok(line) = line
            && let Some((key, r)) = review(line)
        {
            reviews.insert(key, (off, len, r));
        }
    });
    let origin = FileOrigin::of(&job.predictions);
    let mut part = Part {
        job: i,
        entries: Vec::new(),
        skipped: Vec::new(),
    };
    let shown = job.predictions.display();
    let read = lines_of(&job.predictions, |n, offset, len, line| {
        let line = match line {
            Ok(l) if l.trim().is_empty() => return,
            Ok(l) => l,
            Err(()) => {
                part.skipped.push(format!("{shown}:{n}: not UTF-8"));
                return;
            }
        };
        let p = match PredictionLine::parse(line) {
            Ok(p) => p,
            Err(e) => {
                part.skipped.push(format!("{shown}:{n}: {e}"));
                return;
            }
        };
        let rev = reviews.get(&key(&p));
        let row = into_row(p, &origin, rev.map(|(_, _, r)| r));
        part.entries.push(Entry {
            line: n,
            correct: row.correct(),
            search: row.search_text(),
            score: row.score,
            repeat: row.repeat,
            dataset: row.dataset,
            subset: row.subset,
            model: row.model,
            index: row.index,
            offset,
            len,
            review: rev.map(|(o, l, _)| (*o, *l)),
        });
    });
    if let Err(e) = read {
        part.skipped.push(format!("{shown}: {e}"));
    }
    part
}

/// A fresh temporary file name beside `db`.
fn tmp_beside(db: &Path) -> Result<PathBuf, IndexError> {
    let name = format!(
        "{}.tmp-{}-{:x}",
        swarm_store::read::name_of(db),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let tmp = db.with_file_name(name);
    if let Some(dir) = tmp.parent() {
        use std::os::unix::fs::DirBuilderExt;
        // private: an index folder outside the run is this user's alone
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| IndexError::io(dir, e))?;
    }
    Ok(tmp)
}

/// Reads every prediction and review of `run` and writes the index to `db`; returns the number
/// of samples indexed.
pub fn build(run: &Path, db: &Path, progress: &Progress) -> Result<usize, IndexError> {
    // taken before reading: a file that grows meanwhile makes the index stale, never wrong
    let sig = signature(run);
    let jobs = jobs(run);
    progress.files_total.store(jobs.len(), Ordering::Relaxed);
    let tmp = tmp_beside(db)?;
    let result = write(run, &tmp, &sig, &jobs, progress);
    match result {
        Ok(n) => {
            std::fs::rename(&tmp, db).map_err(|e| IndexError::io(db, e))?;
            Ok(n)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn write(
    run: &Path,
    tmp: &Path,
    sig: &Signature,
    jobs: &[Job],
    progress: &Progress,
) -> Result<usize, IndexError> {
    let sql = |e| IndexError::sql(tmp, e);
    let mut conn = Connection::open(tmp).map_err(sql)?;
    conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
        .map_err(sql)?;
    conn.execute_batch(SCHEMA).map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    let rel = |p: &Path| {
        p.strip_prefix(run)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    {
        let mut files = tx
            .prepare("INSERT INTO files (job, predictions, reviews) VALUES (?1, ?2, ?3)")
            .map_err(sql)?;
        for (i, j) in jobs.iter().enumerate() {
            files
                .execute(params![i as i64, rel(&j.predictions), rel(&j.reviews)])
                .map_err(sql)?;
        }
    }
    let threads = std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
        .clamp(1, 8)
        .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let mut facets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut models: BTreeSet<String> = BTreeSet::new();
    let mut total = 0usize;
    let mut skipped_count = 0usize;
    let written: Result<(), IndexError> = std::thread::scope(|scope| {
        let (tx_parts, rx_parts) = mpsc::sync_channel::<Part>(threads * 2);
        for _ in 0..threads {
            let tx_parts = tx_parts.clone();
            let next = &next;
            scope.spawn(move || {
                // each job is taken once; the loop ends when the list is used up
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else {
                        break;
                    };
                    if tx_parts.send(read_job(i, job)).is_err() {
                        break; // the writer failed and stopped listening
                    }
                }
            });
        }
        drop(tx_parts);
        let mut sample = tx
            .prepare(
                "INSERT INTO samples (id, dataset, subset, model, idx, repeat, score, correct, offset, len, review_offset, review_len) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(sql)?;
        let mut search = tx
            .prepare("INSERT INTO search (id, text) VALUES (?1, ?2)")
            .map_err(sql)?;
        let mut skipped = tx
            .prepare("INSERT INTO skipped (n, what) VALUES (?1, ?2)")
            .map_err(sql)?;
        for part in rx_parts {
            for e in &part.entries {
                let id = row_id(part.job, e.line);
                sample
                    .execute(params![
                        id,
                        e.dataset,
                        e.subset,
                        e.model,
                        e.index,
                        e.repeat,
                        e.score,
                        e.correct,
                        e.offset as i64,
                        e.len as i64,
                        e.review.map(|r| r.0 as i64),
                        e.review.map(|r| r.1 as i64),
                    ])
                    .map_err(sql)?;
                search.execute(params![id, e.search]).map_err(sql)?;
                if !models.contains(&e.model) {
                    models.insert(e.model.clone());
                }
                facets
                    .entry(e.dataset.clone())
                    .or_default()
                    .insert(e.subset.clone());
            }
            for (k, s) in part.skipped.iter().enumerate() {
                if skipped_count < SKIPPED_KEPT {
                    // numbered in file order, whichever file was read first
                    skipped
                        .execute(params![row_id(part.job, k), s])
                        .map_err(sql)?;
                }
                skipped_count += 1;
            }
            total += part.entries.len();
            progress
                .rows_done
                .fetch_add(part.entries.len(), Ordering::Relaxed);
            progress.files_done.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    written?;
    let facets = serde_json::to_string(&facets).unwrap_or_else(|_| "{}".into());
    let models = serde_json::to_string(&models).unwrap_or_else(|_| "[]".into());
    let meta = [
        ("version", SCHEMA_VERSION.to_string()),
        ("signature", signature_text(sig)),
        ("total", total.to_string()),
        ("skipped", skipped_count.to_string()),
        ("facets", facets),
        ("models", models),
    ];
    for (k, v) in meta {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)",
            params![k, v],
        )
        .map_err(sql)?;
    }
    tx.execute_batch("CREATE INDEX samples_filter ON samples (dataset, subset, correct)")
        .map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(total)
}
