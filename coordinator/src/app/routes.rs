//! The dashboard's HTTP routes. Pages are rendered on a blocking thread (they read run folders);
//! every response carries a Content-Security-Policy that allows no script at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::compare::compare_page;
use super::index::{RunFilter, list_runs, run_path};
use super::live::live_page;
use super::sample_page::sample_page;
use super::samples::{Progress, SampleQuery, SampleStore, build_index, open_index, signature};
use super::templates::{error_page, indexing_page, runs_page, samples_page};
use crate::report::html::escape::parse_query;
use crate::report::run_data::read_run;

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
    outputs: PathBuf,
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

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    html(StatusCode::NOT_FOUND, error_page(what))
}

/// Runs `f` on a blocking thread and answers its page.
async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_page(&format!("page failed: {e}")),
        ),
    }
}

fn query_map(raw: Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(parse_query).unwrap_or_default()
}

fn first(q: &[(String, String)], key: &str) -> String {
    q.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

async fn runs(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw);
    let filter = RunFilter {
        model: first(&q, "model"),
        kind: first(&q, "kind"),
        date: first(&q, "date"),
    };
    blocking(move || html(StatusCode::OK, runs_page(&list_runs(&st.outputs), &filter))).await
}

async fn report(State(st): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    blocking(move || {
        let Some(dir) = run_path(&st.outputs, &id) else {
            return not_found(&format!("no run {id}"));
        };
        match read_run(&dir) {
            Ok(run) => {
                let page = crate::report::html::render(&run);
                let nav = super::templates::nav(Some(&id));
                html(
                    StatusCode::OK,
                    page.replacen("</h1>", &format!("</h1>{nav}"), 1),
                )
            }
            Err(e) => server_error(e),
        }
    })
    .await
}

/// The samples query of a URL query string.
pub fn sample_query(q: &[(String, String)]) -> SampleQuery {
    SampleQuery {
        dataset: first(q, "dataset"),
        subset: first(q, "subset"),
        correct: match first(q, "correct").as_str() {
            "yes" | "true" | "1" => Some(true),
            "no" | "false" | "0" => Some(false),
            _ => None,
        },
        text: first(q, "q"),
        page: first(q, "page").parse().unwrap_or(1).max(1),
        per_page: first(q, "per_page").parse().unwrap_or(20).clamp(1, 200),
    }
}

/// The ready index of run `id` (in folder `dir`) and whether a newer one is being built, or the
/// page to answer instead (indexing progress, failure, no samples).
fn ready_store(
    st: &AppState,
    dir: &Path,
    id: &str,
) -> Result<(Arc<SampleStore>, bool), Box<Response>> {
    let page = match st.samples(dir, BUILD_WAIT) {
        Samples::Ready { store, refreshing } => return Ok((store, refreshing)),
        Samples::Indexing(build) => html(StatusCode::OK, indexing_page(id, &build.progress)),
        Samples::Failed(e) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_page(&format!("cannot index the samples of {id}: {e}")),
        ),
        Samples::Empty => not_found(&format!("run {id} holds no eval predictions")),
    };
    Err(Box::new(page))
}

fn server_error(e: impl std::fmt::Display) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_page(&e.to_string()),
    )
}

async fn samples(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = sample_query(&query_map(raw));
    blocking(move || {
        let Some(dir) = run_path(&st.outputs, &id) else {
            return not_found(&format!("no run {id}"));
        };
        let (store, refreshing) = match ready_store(&st, &dir, &id) {
            Ok(s) => s,
            Err(page) => return *page,
        };
        match store.query(&q) {
            Ok(page) => html(
                StatusCode::OK,
                samples_page(&id, &store, &q, &page, refreshing),
            ),
            Err(e) => server_error(e),
        }
    })
    .await
}

async fn sample(
    State(st): State<Arc<AppState>>,
    UrlPath((id, sample)): UrlPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = sample_query(&query_map(raw));
    blocking(move || {
        let Some(dir) = run_path(&st.outputs, &id) else {
            return not_found(&format!("no run {id}"));
        };
        let Ok(n) = sample.parse::<i64>() else {
            return not_found(&format!("no sample {sample} in run {id}"));
        };
        let (store, _) = match ready_store(&st, &dir, &id) {
            Ok(s) => s,
            Err(page) => return *page,
        };
        let d = match store.detail(n) {
            Ok(Some(d)) => d,
            Ok(None) => return not_found(&format!("no sample {n} in run {id}")),
            Err(e) => return server_error(e),
        };
        match store.neighbours(&q, n) {
            Ok(steps) => html(StatusCode::OK, sample_page(&id, n, &d, &q, steps)),
            Err(e) => server_error(e),
        }
    })
    .await
}

async fn live(State(st): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Response {
    blocking(move || match run_path(&st.outputs, &id) {
        Some(dir) => html(StatusCode::OK, live_page(&id, &dir)),
        None => not_found(&format!("no run {id}")),
    })
    .await
}

async fn compare(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw);
    let ids: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "run" || k == "runs")
        .flat_map(|(_, v)| v.split(',').map(str::trim).map(str::to_string))
        .filter(|v| !v.is_empty())
        .collect();
    blocking(move || {
        if ids.len() < 2 {
            return html(
                StatusCode::BAD_REQUEST,
                error_page("pick two or more runs to compare"),
            );
        }
        let mut runs = Vec::new();
        for id in &ids {
            let Some(dir) = run_path(&st.outputs, id) else {
                return not_found(&format!("no run {id}"));
            };
            match read_run(&dir) {
                Ok(r) => runs.push(r),
                Err(e) => return server_error(e),
            }
        }
        html(StatusCode::OK, compare_page(&runs))
    })
    .await
}

/// The dashboard's router over the run folders under `outputs`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(runs))
        .route("/runs/{id}", get(report))
        .route("/runs/{id}/samples", get(samples))
        .route("/runs/{id}/samples/{sample}", get(sample))
        .route("/runs/{id}/live", get(live))
        .route("/compare", get(compare))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}
