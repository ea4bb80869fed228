//! The dashboard's HTTP routes. Pages are rendered on a blocking thread (they read run folders);
//! every response carries a Content-Security-Policy that allows no script at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::compare::compare_page;
use super::index::{RunFilter, list_runs, run_path};
use super::live::live_page;
use super::samples::{SampleIndex, SampleQuery, signature};
use super::templates::{error_page, runs_page, samples_page};
use crate::report::html::escape::parse_query;
use crate::report::run_data::read_run;

type Signature = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// What the handlers share: the outputs folder and the sample indexes built so far.
pub struct AppState {
    outputs: PathBuf,
    samples: Mutex<HashMap<PathBuf, (Signature, Arc<SampleIndex>)>>,
    /// Held while an index is built, so one run is never read twice at once.
    building: Mutex<()>,
}

/// How many of the newest runs get their samples indexed when the dashboard starts.
pub const PREWARM_RUNS: usize = 4;

impl AppState {
    /// State serving the run folders under `outputs`.
    pub fn new(outputs: &Path) -> Self {
        Self {
            outputs: outputs.to_path_buf(),
            samples: Mutex::new(HashMap::new()),
            building: Mutex::new(()),
        }
    }

    fn cached(&self, run: &Path, sig: &Signature) -> Option<Arc<SampleIndex>> {
        let cache = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(run)
            .filter(|(s, _)| s == sig)
            .map(|(_, ix)| Arc::clone(ix))
    }

    /// Indexes the samples of the [`PREWARM_RUNS`] newest eval runs (blocking; call it from a
    /// thread of its own when the dashboard starts).
    pub fn prewarm(&self) {
        let runs = super::index::list_runs(&self.outputs);
        for r in runs
            .iter()
            .filter(|r| r.kinds.contains(&"eval"))
            .take(PREWARM_RUNS)
        {
            if let Some(dir) = run_path(&self.outputs, &r.id) {
                let ix = self.sample_index(&dir);
                tracing::debug!(run = %r.id, samples = ix.rows.len(), "samples indexed");
            }
        }
    }

    /// The sample index of `run`, built on first use and rebuilt when its files change.
    pub fn sample_index(&self, run: &Path) -> Arc<SampleIndex> {
        let sig = signature(run);
        if let Some(ix) = self.cached(run, &sig) {
            return ix;
        }
        let _one_at_a_time = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(ix) = self.cached(run, &sig) {
            return ix; // built while this request waited
        }
        let ix = Arc::new(SampleIndex::build(run));
        self.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(run.to_path_buf(), (sig, Arc::clone(&ix)));
        ix
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
            Err(e) => html(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_page(&e.to_string()),
            ),
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
        let ix = st.sample_index(&dir);
        let page = ix.query(&q);
        html(StatusCode::OK, samples_page(&id, &ix, &q, &page))
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
                Err(e) => {
                    return html(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        error_page(&e.to_string()),
                    );
                }
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
        .route("/runs/{id}/live", get(live))
        .route("/compare", get(compare))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}
