//! A built sample index, opened read-only: filters and counts answered by SQLite, the page's rows
//! read back from the prediction and review files at the offsets the index holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params_from_iter};

use super::detail::SampleDetail;
use super::parse::{FileOrigin, PredictionLine, into_row, review};
use super::{IndexError, PageRow, SamplePage, SampleQuery, SampleRow, Signature, signature_text};

/// Bumped whenever the tables change: an index of another version is rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

/// The index's tables. `samples.id` is [`row_id`]: ordering by it is file order.
pub const SCHEMA: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (job INTEGER PRIMARY KEY, predictions TEXT NOT NULL, reviews TEXT NOT NULL);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    subset TEXT NOT NULL,
    model TEXT NOT NULL,
    idx TEXT NOT NULL,
    repeat INTEGER NOT NULL,
    score REAL,
    correct INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    len INTEGER NOT NULL,
    review_offset INTEGER,
    review_len INTEGER
);
CREATE TABLE search (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE skipped (n INTEGER PRIMARY KEY, what TEXT NOT NULL);
";

/// The id of line `line` of prediction file `job`: file order, then line order.
pub fn row_id(job: usize, line: usize) -> i64 {
    ((job as i64) << 32) | (line as i64 & 0xffff_ffff)
}

fn job_of(id: i64) -> usize {
    (id >> 32) as usize
}

/// The 1-based line number in its prediction file of sample `id`.
pub fn line_of(id: i64) -> usize {
    (id & 0xffff_ffff) as usize
}

/// Which sample a generated answer answers, whichever run or model produced it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SampleKey {
    /// Benchmark.
    pub dataset: String,
    /// Subset.
    pub subset: String,
    /// The sample's index within its subset.
    pub index: String,
    /// Which generation of it.
    pub repeat: u32,
}

/// One indexed answer, as a comparison sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed {
    /// Its id in its run's index.
    pub id: i64,
    /// The sample it answers.
    pub key: SampleKey,
    /// The main metric's value, if scored.
    pub score: Option<f64>,
    /// Full credit.
    pub correct: bool,
}

/// A sample's lines as written: its prediction line and its review line, if any.
struct Lines {
    prediction: String,
    review: Option<String>,
}

/// A run's sample index on disk.
#[derive(Debug)]
pub struct SampleStore {
    db: PathBuf,
    run: PathBuf,
    /// (predictions, reviews) of each job, absolute.
    files: Vec<(PathBuf, PathBuf)>,
    /// The signature the index was built from.
    pub signature: Signature,
    /// Samples indexed.
    pub total: usize,
    /// Benchmark → its subsets.
    pub facets: BTreeMap<String, BTreeSet<String>>,
    /// The models whose samples it holds, sorted.
    pub models: Vec<String>,
    /// Lines that could not be read.
    pub skipped_count: usize,
    /// The first of them, as `file:line: why`.
    pub skipped: Vec<String>,
}

fn read_only(db: &Path) -> Result<Connection, IndexError> {
    Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| IndexError::sql(db, e))
}

impl SampleStore {
    /// Opens the index `db` of `run` if it exists and was built from files with signature
    /// `sig`; `Ok(None)` when it is missing, stale or of another version.
    pub fn open(run: &Path, db: &Path, sig: &Signature) -> Result<Option<Self>, IndexError> {
        if !db.is_file() {
            return Ok(None);
        }
        let conn = read_only(db)?;
        let sql = |e| IndexError::sql(db, e);
        let meta = |key: &str| -> Result<Option<String>, IndexError> {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(sql)
        };
        // a file that is no index of ours (or a half-written one) is simply rebuilt
        let Ok(Some(version)) = meta("version") else {
            return Ok(None);
        };
        if version != SCHEMA_VERSION.to_string()
            || meta("signature")?.as_deref() != Some(signature_text(sig).as_str())
        {
            return Ok(None);
        }
        let number = |key: &str| -> Result<usize, IndexError> {
            Ok(meta(key)?.and_then(|v| v.parse().ok()).unwrap_or(0))
        };
        let models = meta("models")?
            .and_then(|m| serde_json::from_str(&m).ok())
            .unwrap_or_default();
        let facets = meta("facets")?
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or_default();
        let mut stmt = conn
            .prepare("SELECT predictions, reviews FROM files ORDER BY job")
            .map_err(sql)?;
        let files = stmt
            .query_map([], |r| {
                Ok((
                    run.join(r.get::<_, String>(0)?),
                    run.join(r.get::<_, String>(1)?),
                ))
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        let mut stmt = conn
            .prepare("SELECT what FROM skipped ORDER BY n LIMIT 10")
            .map_err(sql)?;
        let skipped = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(Some(Self {
            db: db.to_path_buf(),
            run: run.to_path_buf(),
            files,
            signature: sig.clone(),
            total: number("total")?,
            facets,
            models,
            skipped_count: number("skipped")?,
            skipped,
        }))
    }

    /// The rows matching `q`, counted, and the page `q` asks for.
    pub fn query(&self, q: &SampleQuery) -> Result<SamplePage, IndexError> {
        let conn = read_only(&self.db)?;
        let sql = |e| IndexError::sql(&self.db, e);
        let (join, filter, args) = filter_sql(q, None);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT s.id, s.correct FROM samples s{join}{filter} ORDER BY s.id"
            ))
            .map_err(sql)?;
        let per_page = q.per_page.clamp(1, 200);
        let skip = q.page.max(1).saturating_sub(1).saturating_mul(per_page);
        let mut matched = 0;
        let mut matched_correct = 0;
        let mut page_ids = Vec::with_capacity(per_page);
        let mut rows = stmt.query(params_from_iter(args)).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            let id: i64 = r.get(0).map_err(sql)?;
            let correct: bool = r.get(1).map_err(sql)?;
            if matched >= skip && page_ids.len() < per_page {
                page_ids.push(id);
            }
            matched += 1;
            matched_correct += usize::from(correct);
        }
        let mut out = Vec::with_capacity(page_ids.len());
        let mut files = OpenFiles::new();
        for id in page_ids {
            out.push(PageRow {
                id,
                row: self.row(&conn, &mut files, id)?,
            });
        }
        Ok(SamplePage {
            matched,
            matched_correct,
            rows: out,
        })
    }

    /// Every sample of `model` (of benchmark `dataset` when not empty), in file order: what a
    /// side-by-side comparison pairs up.
    pub fn keyed(&self, model: &str, dataset: &str) -> Result<Vec<Keyed>, IndexError> {
        let conn = read_only(&self.db)?;
        let sql = |e| IndexError::sql(&self.db, e);
        let mut stmt = conn
            .prepare(
                "SELECT id, dataset, subset, idx, repeat, score, correct FROM samples WHERE model = ?1 AND (?2 = '' OR dataset = ?2) ORDER BY id",
            )
            .map_err(sql)?;
        stmt.query_map(rusqlite::params![model, dataset], |r| {
            Ok(Keyed {
                id: r.get(0)?,
                key: SampleKey {
                    dataset: r.get(1)?,
                    subset: r.get(2)?,
                    index: r.get(3)?,
                    repeat: r.get(4)?,
                },
                score: r.get(5)?,
                correct: r.get(6)?,
            })
        })
        .map_err(sql)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql)
    }

    /// The rows of samples `ids`, read back from their files, in the order asked.
    pub fn rows(&self, ids: &[i64]) -> Result<Vec<SampleRow>, IndexError> {
        let mut out = Vec::with_capacity(ids.len());
        self.for_each_row(ids, |_, row| {
            out.push(row);
            true
        })?;
        Ok(out)
    }

    /// The ids of every sample matching `q`'s filters (its page is ignored), in file order.
    pub fn matching(&self, q: &SampleQuery) -> Result<Vec<i64>, IndexError> {
        let conn = read_only(&self.db)?;
        let sql = |e| IndexError::sql(&self.db, e);
        let (join, filter, args) = filter_sql(q, None);
        let mut stmt = conn
            .prepare(&format!(
                "SELECT s.id FROM samples s{join}{filter} ORDER BY s.id"
            ))
            .map_err(sql)?;
        stmt.query_map(params_from_iter(args), |r| r.get::<_, i64>(0))
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)
    }

    /// Calls `each` with the row of every sample of `ids` in turn, read back from its files,
    /// until it returns false (the reader went away) or a row cannot be read.
    pub fn for_each_row(
        &self,
        ids: &[i64],
        mut each: impl FnMut(i64, SampleRow) -> bool,
    ) -> Result<(), IndexError> {
        let conn = read_only(&self.db)?;
        let mut files = OpenFiles::new();
        for id in ids {
            if !each(*id, self.row(&conn, &mut files, *id)?) {
                break;
            }
        }
        Ok(())
    }

    /// The ids of the samples before and after `id` among those matching `q` (its filters;
    /// the page is ignored), for stepping through them one by one.
    pub fn neighbours(
        &self,
        q: &SampleQuery,
        id: i64,
    ) -> Result<(Option<i64>, Option<i64>), IndexError> {
        let conn = read_only(&self.db)?;
        let step = |side: Beyond, pick: &str| -> Result<Option<i64>, IndexError> {
            let (join, filter, args) = filter_sql(q, Some(side));
            conn.query_row(
                &format!("SELECT {pick}(s.id) FROM samples s{join}{filter}"),
                params_from_iter(args),
                |r| r.get::<_, Option<i64>>(0),
            )
            .map_err(|e| IndexError::sql(&self.db, e))
        };
        Ok((
            step(Beyond::Before(id), "max")?,
            step(Beyond::After(id), "min")?,
        ))
    }

    /// Sample `id` read back whole from its files; `None` when the index holds no such sample.
    pub fn detail(&self, id: i64) -> Result<Option<SampleDetail>, IndexError> {
        let conn = read_only(&self.db)?;
        let Some(lines) = self.lines(&conn, &mut OpenFiles::new(), id)? else {
            return Ok(None);
        };
        let row = self.parse(id, &lines)?;
        let file = self
            .files
            .get(job_of(id))
            .map(|(p, _)| p.strip_prefix(&self.run).unwrap_or(p).display().to_string())
            .unwrap_or_default();
        Ok(Some(SampleDetail::new(
            row,
            file,
            line_of(id),
            &lines.prediction,
            lines.review.as_deref(),
        )))
    }

    /// Reads sample `id` back from its files.
    fn row(
        &self,
        conn: &Connection,
        files: &mut OpenFiles,
        id: i64,
    ) -> Result<SampleRow, IndexError> {
        let lines = self
            .lines(conn, files, id)?
            .ok_or_else(|| IndexError::Changed(self.db.clone()))?;
        self.parse(id, &lines)
    }

    /// The lines of sample `id` at the offsets the index holds.
    fn lines(
        &self,
        conn: &Connection,
        files: &mut OpenFiles,
        id: i64,
    ) -> Result<Option<Lines>, IndexError> {
        let sql = |e| IndexError::sql(&self.db, e);
        let Some((offset, len, roff, rlen)) = conn
            .prepare_cached(
                "SELECT offset, len, review_offset, review_len FROM samples WHERE id = ?1",
            )
            .map_err(sql)?
            .query_row([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .optional()
            .map_err(sql)?
        else {
            return Ok(None);
        };
        let Some((pred_file, review_file)) = self.files.get(job_of(id)) else {
            return Err(IndexError::Changed(self.db.clone()));
        };
        let review = match (roff, rlen) {
            (Some(o), Some(l)) => Some(read_at(files, review_file, o, l)?),
            _ => None,
        };
        Ok(Some(Lines {
            prediction: read_at(files, pred_file, offset, len)?,
            review,
        }))
    }

    /// The row of sample `id` from its lines.
    fn parse(&self, id: i64, lines: &Lines) -> Result<SampleRow, IndexError> {
        let (pred_file, review_file) = self
            .files
            .get(job_of(id))
            .ok_or_else(|| IndexError::Changed(self.db.clone()))?;
        let p = PredictionLine::parse(&lines.prediction)
            .map_err(|_| IndexError::Changed(pred_file.to_path_buf()))?;
        let rev = match &lines.review {
            Some(l) => Some(
                review(l)
                    .ok_or_else(|| IndexError::Changed(review_file.to_path_buf()))?
                    .1,
            ),
            None => None,
        };
        Ok(into_row(p, &FileOrigin::of(pred_file), rev.as_ref()))
    }
}

/// Only the samples before, or after, a sample.
#[derive(Clone, Copy)]
enum Beyond {
    Before(i64),
    After(i64),
}

/// The join, `WHERE` clause and arguments that select the samples matching `q`'s filters (and
/// `beyond`, when given).
fn filter_sql(
    q: &SampleQuery,
    beyond: Option<Beyond>,
) -> (&'static str, String, Vec<rusqlite::types::Value>) {
    let text = q.text.trim().to_lowercase();
    let mut clauses = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if !q.dataset.is_empty() {
        clauses.push("s.dataset = ?");
        args.push(q.dataset.clone().into());
    }
    if !q.subset.is_empty() {
        clauses.push("s.subset = ?");
        args.push(q.subset.clone().into());
    }
    if let Some(c) = q.correct {
        clauses.push("s.correct = ?");
        args.push(i64::from(c).into());
    }
    match beyond {
        Some(Beyond::Before(id)) => {
            clauses.push("s.id < ?");
            args.push(id.into());
        }
        Some(Beyond::After(id)) => {
            clauses.push("s.id > ?");
            args.push(id.into());
        }
        None => {}
    }
    let join = if text.is_empty() {
        ""
    } else {
        clauses.push("instr(t.text, ?) > 0");
        args.push(text.into());
        " JOIN search t ON t.id = s.id"
    };
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    (join, filter, args)
}

/// The files a reader has open, by path (a download reads thousands of lines of each).
type OpenFiles = HashMap<PathBuf, std::fs::File>;

/// `len` bytes of `path` from `offset`, as text (the file opened once per reader).
fn read_at(
    files: &mut OpenFiles,
    path: &Path,
    offset: i64,
    len: i64,
) -> Result<String, IndexError> {
    let io = |e| IndexError::io(path, e);
    let f = match files.entry(path.to_path_buf()) {
        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(std::fs::File::open(path).map_err(io)?)
        }
    };
    f.seek(SeekFrom::Start(offset.max(0) as u64)).map_err(io)?;
    let mut buf = vec![0; len.max(0) as usize];
    f.read_exact(&mut buf).map_err(io)?;
    String::from_utf8(buf).map_err(|_| IndexError::Changed(path.to_path_buf()))
}
