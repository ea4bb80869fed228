//! The dashboard's sample routes: a run's samples page, one sample's page, and two models'
//! answers side by side.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::index::run_path;
use super::routes::{blocking, first, html, not_found, query_map, server_error};
use super::sample_page::sample_page;
use super::samples::{IndexError, SampleQuery, SampleRow, SampleStore};
use super::side_by_side::{Pair, Show, pair, shown};
use super::side_by_side_page::{PER_PAGE, PairQuery, PairsPage, ShownPair, Side};
use super::state::{AppState, BUILD_WAIT, Samples};
use super::templates::{error_page, indexing_page, samples_page};

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

/// [`ready_store`] of run `id`, or a 404 page when there is no such run.
pub(super) fn run_store(
    st: &AppState,
    id: &str,
) -> Result<(Arc<SampleStore>, bool), Box<Response>> {
    let Some(dir) = run_path(&st.outputs, id) else {
        return Err(Box::new(not_found(&format!("no run {id}"))));
    };
    ready_store(st, &dir, id)
}

pub async fn samples(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = sample_query(&query_map(raw));
    blocking(move || {
        let (store, refreshing) = match run_store(&st, &id) {
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

pub async fn sample(
    State(st): State<Arc<AppState>>,
    UrlPath((id, sample)): UrlPath<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = sample_query(&query_map(raw));
    blocking(move || {
        let Ok(n) = sample.parse::<i64>() else {
            return not_found(&format!("no sample {sample} in run {id}"));
        };
        let (store, _) = match run_store(&st, &id) {
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

/// One side of `/compare/samples`: run `run` (its index ready) and model `model` (its first
/// model when empty or unknown), or the page to answer instead.
fn side(st: &AppState, run: &str, model: &str) -> Result<(Side, Arc<SampleStore>), Box<Response>> {
    let (store, _) = run_store(st, run)?;
    let models = store.models.clone();
    let model = if models.iter().any(|m| m == model) {
        model.to_owned()
    } else {
        models.first().cloned().unwrap_or_default()
    };
    Ok((
        Side {
            run: run.to_owned(),
            model,
            models,
        },
        store,
    ))
}

/// The rows of the answers `ids` read from `store` (`None` where a side did not answer).
fn answer_rows(
    store: &SampleStore,
    ids: &[Option<i64>],
) -> Result<Vec<Option<SampleRow>>, IndexError> {
    let found: Vec<i64> = ids.iter().flatten().copied().collect();
    let mut rows = store.rows(&found)?.into_iter();
    Ok(ids.iter().map(|id| id.and_then(|_| rows.next())).collect())
}

pub async fn compare_samples(State(st): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let q = query_map(raw);
    let (a, b) = (first(&q, "a"), first(&q, "b"));
    let (a_model, b_model) = (first(&q, "a_model"), first(&q, "b_model"));
    let pq = PairQuery {
        dataset: first(&q, "dataset"),
        show: Show::parse(&first(&q, "show")),
        page: first(&q, "page").parse().unwrap_or(1).max(1),
    };
    blocking(move || {
        if a.is_empty() || b.is_empty() {
            return html(
                StatusCode::BAD_REQUEST,
                error_page("pick two runs: /compare/samples?a=<run>&b=<run>"),
            );
        }
        let (sa, store_a) = match side(&st, &a, &a_model) {
            Ok(s) => s,
            Err(page) => return *page,
        };
        let (sb, store_b) = match side(&st, &b, &b_model) {
            Ok(s) => s,
            Err(page) => return *page,
        };
        let pairs = match (
            store_a.keyed(&sa.model, &pq.dataset),
            store_b.keyed(&sb.model, &pq.dataset),
        ) {
            (Ok(ka), Ok(kb)) => pair(ka, kb),
            (Err(e), _) | (_, Err(e)) => return server_error(e),
        };
        let listed = shown(&pairs, pq.show);
        let on_page: Vec<&Pair> = listed
            .iter()
            .skip((pq.page - 1).saturating_mul(PER_PAGE))
            .take(PER_PAGE)
            .copied()
            .collect();
        let ids_a: Vec<Option<i64>> = on_page.iter().map(|p| p.a.as_ref().map(|k| k.id)).collect();
        let ids_b: Vec<Option<i64>> = on_page.iter().map(|p| p.b.as_ref().map(|k| k.id)).collect();
        let shown: Vec<ShownPair> =
            match (answer_rows(&store_a, &ids_a), answer_rows(&store_b, &ids_b)) {
                (Ok(ra), Ok(rb)) => on_page
                    .iter()
                    .zip(ra.into_iter().zip(rb))
                    .map(|(pair, (a, b))| ShownPair { pair, a, b })
                    .collect(),
                (Err(e), _) | (_, Err(e)) => return server_error(e),
            };
        let datasets: Vec<String> = store_a
            .facets
            .keys()
            .chain(store_b.facets.keys())
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let page = PairsPage {
            a: &sa,
            b: &sb,
            q: &pq,
            pairs: &pairs,
            listed: listed.len(),
            datasets: &datasets,
            shown: &shown,
        };
        html(StatusCode::OK, page.render())
    })
    .await
}
