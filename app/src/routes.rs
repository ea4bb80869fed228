//! The dashboard's HTTP routes. Pages are rendered on a blocking thread (they read run folders);
//! every response carries a Content-Security-Policy that allows no script at all.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::compare::compare_page;
use super::index::{RunFilter, list_runs, run_path};
use super::live::live_page;
use super::sample_routes::{compare_samples, sample, samples};
use super::state::AppState;
use super::templates::{error_page, runs_page};
use swarm_report::html::escape::parse_query;
use swarm_report::run_data::read_run;

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub(super) fn html(status: StatusCode, body: String) -> Response {
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

pub(super) fn not_found(what: &str) -> Response {
    html(StatusCode::NOT_FOUND, error_page(what))
}

/// A page saying what went wrong, as a server error.
pub(super) fn server_error(e: impl std::fmt::Display) -> Response {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_page(&e.to_string()),
    )
}

/// Runs `f` on a blocking thread and answers its page.
pub(super) async fn blocking(f: impl FnOnce() -> Response + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            error_page(&format!("page failed: {e}")),
        ),
    }
}

pub(super) fn query_map(raw: Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(parse_query).unwrap_or_default()
}

pub(super) fn first(q: &[(String, String)], key: &str) -> String {
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
                let page = swarm_report::html::render(&run);
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
        .route(
            "/runs/{id}/samples.jsonl",
            get(super::export::samples_export),
        )
        .route("/runs/{id}/samples/{sample}", get(sample))
        .route("/runs/{id}/live", get(live))
        .route("/compare", get(compare))
        .route("/compare/samples", get(compare_samples))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}
