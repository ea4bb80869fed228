//! Eval samples of a run, browsed on the server: each prediction line joined with its review
//! line (gold answer, score). Reads our lines and EvalScope's own.
//!
//! A run's samples are indexed once into `samples.index.sqlite` beside the run (or in the
//! temporary folder when the run folder is read-only): filter columns, a lower-cased search text
//! and each line's place in its file. The coordinator writes the index when an eval ends, so
//! the dashboard's first page of even a very large run is a few small queries; the index is
//! rebuilt whenever the run's prediction or review files change.

pub mod build;
pub mod detail;
pub mod parse;
pub mod store;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use build::Progress;
pub use store::SampleStore;

use swarm_store::layout::eval_files;

/// The index's file name in a run folder.
pub const INDEX_FILE: &str = "samples.index.sqlite";

/// One generated answer to one sample.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SampleRow {
    /// Benchmark (`gsm8k`).
    pub dataset: String,
    /// Subset (`main`, `Level 1`).
    pub subset: String,
    /// The model folder.
    pub model: String,
    /// The sample's index within its subset.
    pub index: String,
    /// Which generation of the sample.
    pub repeat: u32,
    /// The last user message.
    pub question: String,
    /// The reasoning content, if any.
    pub reasoning: String,
    /// The answer content.
    pub answer: String,
    /// What the scorer extracted from the answer.
    pub extracted: String,
    /// The gold answer.
    pub gold: String,
    /// The main metric's value, if scored.
    pub score: Option<f64>,
    /// The request's error, if it failed.
    pub error: Option<String>,
}

impl SampleRow {
    /// Full credit on the main metric.
    pub fn correct(&self) -> bool {
        self.score.is_some_and(|s| s >= 1.0 - 1e-9)
    }

    /// What a text search looks in: question, reasoning, answer and gold, lower-cased.
    pub fn search_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}",
            self.question, self.reasoning, self.answer, self.gold
        )
        .to_lowercase()
    }
}

/// What the samples page asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleQuery {
    /// Benchmark, empty for any.
    pub dataset: String,
    /// Subset, empty for any.
    pub subset: String,
    /// Some(true): only full-credit answers; Some(false): only the others.
    pub correct: Option<bool>,
    /// Case-insensitive text searched in question, reasoning, answer and gold.
    pub text: String,
    /// 1-based page.
    pub page: usize,
    /// Rows per page (1..=200).
    pub per_page: usize,
}

impl Default for SampleQuery {
    fn default() -> Self {
        Self {
            dataset: String::new(),
            subset: String::new(),
            correct: None,
            text: String::new(),
            page: 1,
            per_page: 20,
        }
    }
}

/// One page of matching samples.
#[derive(Debug)]
pub struct SamplePage {
    /// Samples matching the filters.
    pub matched: usize,
    /// Of which full credit.
    pub matched_correct: usize,
    /// The rows of the page asked for.
    pub rows: Vec<PageRow>,
}

/// One row of a page.
#[derive(Debug)]
pub struct PageRow {
    /// The sample's id in the index: its own page is `/runs/<run>/samples/<id>`.
    pub id: i64,
    /// What the table shows of it.
    pub row: SampleRow,
}

/// Errors reading or writing a sample index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// SQLite refused an operation.
    #[error("sample index {path}: {source}")]
    Sqlite {
        /// The index file.
        path: PathBuf,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file changed after it was indexed (the index is rebuilt on the next request).
    #[error("{0} changed while it was read; reload the page")]
    Changed(PathBuf),
}

impl IndexError {
    fn sql(path: &Path, source: rusqlite::Error) -> Self {
        Self::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The prediction and review files of a run with size and modification time: when this
/// changes, the index is stale.
pub type Signature = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// The [`Signature`] of `run` now.
pub fn signature(run: &Path) -> Signature {
    let files = eval_files(run).into_iter().flat_map(|(p, r)| [p, r]);
    let meta = |f: PathBuf| {
        let meta = std::fs::metadata(&f).ok();
        let len = meta.as_ref().map(|m| m.len()).unwrap_or(0);
        (f, len, meta.and_then(|m| m.modified().ok()))
    };
    files.map(meta).collect()
}

/// A signature as stored in the index: one `name size mtime-ns` line per file.
pub fn signature_text(sig: &Signature) -> String {
    sig.iter()
        .map(|(p, len, modified)| {
            let ns = modified
                .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            format!(
                "{}\t{len}\t{ns}\n",
                p.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect()
}

/// This user's own cache folder for indexes of read-only run folders:
/// `$XDG_CACHE_HOME/swarmbench/sample-index`, else `$HOME/.cache/swarmbench/sample-index` (made
/// 0700 when written; never a shared, predictable temporary path another user could plant).
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("swarmbench").join("sample-index")
}

/// Whether `dir` may hold indexes we read back: nobody but its owner may write into it.
pub fn private_dir(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o022 == 0)
}

/// Where the index of `run` lies: beside it, else (read-only run folders) in this user's cache
/// folder under a name made from the run's path.
pub fn index_paths(run: &Path) -> [PathBuf; 2] {
    let abs = std::fs::canonicalize(run).unwrap_or_else(|_| run.to_path_buf());
    // FNV-1a: stable across builds, unlike the standard hasher
    let hash = abs
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    [
        run.join(INDEX_FILE),
        cache_dir().join(format!("{hash:016x}.sqlite")),
    ]
}

/// Whether `dir` is this user's own folder, writable by its owner: only then does the index go
/// beside the run. Another user's run is never written into, even where this user could (root,
/// a group-writable folder); nothing is written to find out.
fn ours(dir: &Path) -> bool {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions and cannot fail
    let me = unsafe { libc::geteuid() };
    std::fs::metadata(dir)
        .is_ok_and(|m| m.is_dir() && m.uid() == me && m.permissions().mode() & 0o200 != 0)
}

/// The index of `run` if one is up to date with its files.
pub fn open_index(run: &Path) -> Result<Option<SampleStore>, IndexError> {
    let sig = signature(run);
    for db in index_paths(run) {
        // an index outside the run folder is read only from a folder nobody else can write
        if !db.starts_with(run) && !db.parent().is_some_and(private_dir) {
            continue;
        }
        if let Some(s) = SampleStore::open(run, &db, &sig)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Builds the index of `run` (beside it when the folder is this user's, else in this user's
/// cache) and opens it.
pub fn build_index(run: &Path, progress: &Progress) -> Result<SampleStore, IndexError> {
    let [beside, fallback] = index_paths(run);
    let db = if ours(run) { beside } else { fallback };
    build::build(run, &db, progress)?;
    let sig = signature(run);
    match SampleStore::open(run, &db, &sig)? {
        Some(s) => Ok(s),
        // the run changed while it was indexed: build again from what is there now
        None => {
            build::build(run, &db, progress)?;
            let sig = signature(run);
            SampleStore::open(run, &db, &sig)?.ok_or(IndexError::Changed(run.to_path_buf()))
        }
    }
}

/// Writes the sample index of a run that holds eval predictions (end of `coordinator eval` and
/// `run`), so the dashboard opens it at once; a failure is only a warning.
pub fn write_index_or_warn(run: &Path) {
    if signature(run).is_empty() {
        return;
    }
    match build_index(run, &Progress::default()) {
        Ok(s) => println!("sample index: {} samples", s.total),
        Err(e) => eprintln!("warning: no sample index: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_index_folder_others_can_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let mine = tmp.path().join("mine");
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&mine).expect("dir");
        std::fs::create_dir(&shared).expect("dir");
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        assert!(private_dir(&mine));
        assert!(
            !private_dir(&shared),
            "a world-writable folder could hold a planted index"
        );
        assert!(!private_dir(&tmp.path().join("missing")));
        assert!(cache_dir().ends_with("swarmbench/sample-index"));
        assert!(
            !cache_dir().starts_with(std::env::temp_dir()),
            "not a shared temporary path"
        );
    }

    use super::*;
    use std::io::Write;

    #[test]
    fn another_users_run_is_never_written_into() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let run = tmp.path().join("run");
        write_run(&run, 9);
        assert!(ours(&run), "a run this user made is indexed beside it");
        // a run folder this user could write (as root, or mode 0777) but does not own
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let owner = nix_chown(&run, 65534);
        if !owner {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI runs as root: the foreign-owner case must be checked"
            );
            eprintln!("skipped: another user's run folder needs root to make (chown)");
            return;
        }
        assert!(!ours(&run), "another user's run is not ours to write into");
        let before: Vec<_> = std::fs::read_dir(&run)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        let [beside, fallback] = index_paths(&run);
        let s = build_index(&run, &Progress::default()).expect("indexed");
        assert!(s.total > 0);
        assert!(!beside.exists(), "no index written into another user's run");
        assert!(fallback.exists(), "it went to this user's cache");
        let after: Vec<_> = std::fs::read_dir(&run)
            .expect("dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            before, after,
            "nothing at all was written into the run folder"
        );
        let _ = std::fs::remove_file(fallback);
    }

    /// Gives `p` to `uid`; false when this process may not (not root).
    fn nix_chown(p: &Path, uid: u32) -> bool {
        std::os::unix::fs::chown(p, Some(uid), None).is_ok()
    }

    fn write_run(dir: &Path, n: usize) {
        let preds = dir.join("eval/predictions/m");
        let revs = dir.join("eval/reviews/m");
        std::fs::create_dir_all(&preds).expect("dir");
        std::fs::create_dir_all(&revs).expect("dir");
        for (bench, subset, pick) in [("gsm8k", "A", 0), ("math_500", "B", 1)] {
            let mut p =
                std::fs::File::create(preds.join(format!("{bench}_{subset}.jsonl"))).expect("file");
            let mut r =
                std::fs::File::create(revs.join(format!("{bench}_{subset}.jsonl"))).expect("file");
            for i in (0..n).filter(|i| (i % 3 == 0) as usize != pick) {
                let score = if i % 5 == 0 { 1.0 } else { 0.0 };
                writeln!(p, "{}", serde_json::json!({"index": i, "messages": [{"role": "user", "content": "What is 2+2?"}], "model_output": {"choices": [{"message": {"content": format!("answer {i}")}}]}})).expect("write");
                writeln!(r, "{}", serde_json::json!({"index": i, "target": "4", "sample_score": {"score": {"value": {"acc": score}, "main_score_name": "acc"}}})).expect("write");
            }
            writeln!(p, "{{not json").expect("write");
        }
    }

    #[test]
    fn filters_pages_and_searches_a_built_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_run(dir.path(), 45);
        let progress = Progress::default();
        let ix = build_index(dir.path(), &progress).expect("index");
        assert_eq!((ix.total, ix.skipped_count), (45, 2));
        assert!(
            ix.skipped[0].contains("gsm8k_A.jsonl:16:"),
            "{:?}",
            ix.skipped
        );
        assert_eq!(
            progress
                .files_done
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        assert_eq!(ix.facets["gsm8k"].len(), 1);
        let all = ix.query(&SampleQuery::default()).expect("query");
        assert_eq!(
            (all.matched, all.matched_correct, all.rows.len()),
            (45, 9, 20)
        );
        assert_eq!(
            (
                all.rows[0].row.answer.as_str(),
                all.rows[0].row.gold.as_str()
            ),
            ("answer 0", "4")
        );
        let p3 = ix
            .query(&SampleQuery {
                page: 3,
                ..Default::default()
            })
            .expect("query");
        assert_eq!(p3.rows.len(), 5);
        assert_eq!(
            p3.rows[4].row.answer, "answer 44",
            "file order: math_500 last"
        );
        let gsm = ix
            .query(&SampleQuery {
                dataset: "gsm8k".into(),
                correct: Some(true),
                ..Default::default()
            })
            .expect("query");
        assert_eq!(gsm.matched, 3, "i in 0, 15, 30");
        assert!(
            gsm.rows
                .iter()
                .all(|r| r.row.correct() && r.row.dataset == "gsm8k")
        );
        let text = ix
            .query(&SampleQuery {
                text: "ANSWER 4".into(),
                ..Default::default()
            })
            .expect("query");
        assert_eq!(text.matched, 6, "4 and 40..44");
        // reopened from disk while the files are unchanged; stale once they change
        assert_eq!(
            open_index(dir.path()).expect("open").map(|s| s.total),
            Some(45)
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("eval/predictions/m/gsm8k_A.jsonl"))
            .and_then(|mut f| writeln!(f))
            .expect("append");
        assert!(open_index(dir.path()).expect("open").is_none());
    }

    #[test]
    fn a_sample_is_read_back_whole_and_steps_to_its_matching_neighbours() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_run(dir.path(), 45);
        let ix = build_index(dir.path(), &Progress::default()).expect("index");
        let q = SampleQuery {
            dataset: "gsm8k".into(),
            correct: Some(true),
            ..Default::default()
        };
        let ids: Vec<i64> = ix
            .query(&q)
            .expect("query")
            .rows
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids.len(), 3, "i in 0, 15, 30");
        assert_eq!(
            ix.neighbours(&q, ids[1]).expect("steps"),
            (Some(ids[0]), Some(ids[2]))
        );
        assert_eq!(
            ix.neighbours(&q, ids[0]).expect("steps"),
            (None, Some(ids[1]))
        );
        let unfiltered = ix
            .neighbours(&SampleQuery::default(), ids[1])
            .expect("steps");
        assert_eq!(
            unfiltered,
            (Some(ids[1] - 1), Some(ids[1] + 1)),
            "lines next to it"
        );
        let d = ix.detail(ids[1]).expect("read").expect("found");
        assert_eq!(
            (d.row.answer.as_str(), d.row.gold.as_str()),
            ("answer 15", "4")
        );
        assert_eq!(d.file, "eval/predictions/m/gsm8k_A.jsonl");
        assert_eq!(d.line, 6, "gsm8k_A holds i = 0, 3, 6, 9, 12, 15, …");
        assert_eq!(
            d.messages,
            vec![("user".to_owned(), "What is 2+2?".to_owned())]
        );
        assert_eq!((d.main.as_str(), d.scores.get("acc")), ("acc", Some(&1.0)));
        assert!(
            d.review
                .as_deref()
                .is_some_and(|r| r.contains("\"target\": \"4\""))
        );
        assert!(ix.detail(ids[2] + (1 << 40)).expect("read").is_none());
    }

    #[test]
    fn a_garbage_index_file_is_rebuilt_not_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_run(dir.path(), 6);
        std::fs::write(dir.path().join(INDEX_FILE), b"not sqlite").expect("write");
        assert!(open_index(dir.path()).expect("open").is_none());
        let ix = build_index(dir.path(), &Progress::default()).expect("index");
        assert_eq!(ix.total, 6);
        assert!(open_index(dir.path()).expect("open").is_some());
    }
}
