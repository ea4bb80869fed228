//! What the dashboard's handlers share: the outputs folder, and each run's sample index, opened
//! from disk or being built on a thread of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::index::run_path;
use super::samples::{Progress, SampleStore, build_index, open_index, signature};

/// A sample index being built on a thread of its own.
#[derive(Default)]
pub struct Build {
    /// How far it has got.
    pub progress: Progress,
    done: Mutex<Option<Result<Arc<SampleStore>, String>>>,
    finished: Condvar,
}

impl Build {
    /// Waits up to `wait` for the build to end; its result if it has.
    fn wait(&self, wait: Duration) -> Option<Result<Arc<SampleStore>, String>> {
        let done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        let (done, _) = self
            .finished
            .wait_timeout_while(done, wait, |d| d.is_none())
            .unwrap_or_else(|p| p.into_inner());
        done.clone()
    }
}

/// A run's samples as a request finds them.
pub enum Samples {
    /// An index to query; `refreshing` when the files changed and a newer one is being built.
    Ready {
        /// The index.
        store: Arc<SampleStore>,
        /// A newer index is being built.
        refreshing: bool,
    },
    /// No index yet; this one is being built.
    Indexing(Arc<Build>),
    /// The index could not be built.
    Failed(String),
    /// The run holds no eval predictions.
    Empty,
}

/// What the handlers share: the outputs folder and the sample indexes opened or being built.
pub struct AppState {
    pub(super) outputs: PathBuf,
    stores: Mutex<HashMap<PathBuf, Arc<SampleStore>>>,
    builds: Mutex<HashMap<PathBuf, Arc<Build>>>,
}

/// How many of the newest runs get their samples indexed when the dashboard starts.
pub const PREWARM_RUNS: usize = 4;

/// How long a request waits for an index being built before it answers with its progress.
pub const BUILD_WAIT: Duration = Duration::from_millis(400);

impl AppState {
    /// State serving the run folders under `outputs`.
    pub fn new(outputs: &Path) -> Self {
        Self {
            outputs: outputs.to_path_buf(),
            stores: Mutex::new(HashMap::new()),
            builds: Mutex::new(HashMap::new()),
        }
    }

    /// Opens or builds the sample indexes of the [`PREWARM_RUNS`] newest eval runs (blocking;
    /// call it from a thread of its own when the dashboard starts).
    pub fn prewarm(&self) {
        let runs = super::index::list_runs(&self.outputs);
        for r in runs
            .iter()
            .filter(|r| r.kinds.contains(&"eval"))
            .take(PREWARM_RUNS)
        {
            if let Some(dir) = run_path(&self.outputs, &r.id) {
                match self.samples(&dir, Duration::from_secs(3600)) {
                    Samples::Ready { store, .. } => {
                        tracing::debug!(run = %r.id, samples = store.total, "samples indexed");
                    }
                    Samples::Indexing(_) | Samples::Empty => {}
                    Samples::Failed(e) => {
                        tracing::warn!(run = %r.id, error = %e, "no sample index")
                    }
                }
            }
        }
    }

    fn build_of(&self, run: &Path) -> Arc<Build> {
        let mut builds = self.builds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = builds.get(run) {
            return Arc::clone(b);
        }
        let b = Arc::new(Build::default());
        builds.insert(run.to_path_buf(), Arc::clone(&b));
        let (bg, dir) = (Arc::clone(&b), run.to_path_buf());
        let spawned = std::thread::Builder::new()
            .name("sample-index".into())
            .spawn(move || {
                let r = build_index(&dir, &bg.progress)
                    .map(Arc::new)
                    .map_err(|e| e.to_string());
                *bg.done.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                bg.finished.notify_all();
            });
        if let Err(e) = spawned {
            *b.done.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(Err(format!("cannot start the index thread: {e}")));
        }
        b
    }

    /// The samples of `run`: its index when it is up to date (opened from disk, or built and
    /// waited for up to `wait`), else the build in progress.
    pub fn samples(&self, run: &Path, wait: Duration) -> Samples {
        let sig = signature(run);
        if sig.is_empty() {
            return Samples::Empty;
        }
        let cached = self
            .stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(run)
            .cloned();
        if let Some(s) = &cached
            && s.signature == sig
        {
            return Samples::Ready {
                store: Arc::clone(s),
                refreshing: false,
            };
        }
        if cached.is_none() {
            match open_index(run) {
                Ok(Some(s)) => return self.keep(run, Arc::new(s)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(run = %run.display(), error = %e, "unreadable sample index; rebuilding")
                }
            }
        }
        let build = self.build_of(run);
        match build.wait(wait) {
            Some(result) => {
                let mut builds = self.builds.lock().unwrap_or_else(|p| p.into_inner());
                if builds.get(run).is_some_and(|b| Arc::ptr_eq(b, &build)) {
                    builds.remove(run);
                }
                drop(builds);
                match result {
                    Ok(s) => self.keep(run, s),
                    Err(e) => Samples::Failed(e),
                }
            }
            None => match cached {
                Some(store) => Samples::Ready {
                    store,
                    refreshing: true,
                },
                None => Samples::Indexing(build),
            },
        }
    }

    fn keep(&self, run: &Path, store: Arc<SampleStore>) -> Samples {
        self.stores
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run.to_path_buf(), Arc::clone(&store));
        Samples::Ready {
            store,
            refreshing: false,
        }
    }
}
