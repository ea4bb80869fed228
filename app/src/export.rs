//! A run's samples, filtered as on the samples page, downloaded as JSON lines. Rows are streamed
//! as they are read back from the run's files, so a download of 100,000 samples holds only a
//! few lines in memory.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::routes::{query_map, server_error};
use super::sample_routes::{run_store, sample_query};
use super::samples::{SampleRow, SampleStore};
use super::state::AppState;
use swarm_store::stage_files::plain_name;

/// Bytes gathered before they are sent.
const CHUNK: usize = 64 * 1024;

/// One line of the download: the sample's id in the index (its page is
/// `/runs/<run>/samples/<id>`) and its row.
#[derive(Serialize)]
struct Line<'a> {
    id: i64,
    #[serde(flatten)]
    row: &'a SampleRow,
}

/// The download's file name: the run id's [`plain_name`].
pub fn file_name(run: &str) -> String {
    format!("{}-samples.jsonl", plain_name(run))
}

/// Writes the rows of `ids` as JSON lines into `tx`, a chunk at a time; a row that cannot be
/// read ends the download with an `{"error": ...}` line.
fn stream_rows(store: &SampleStore, ids: &[i64], tx: &tokio::sync::mpsc::Sender<Bytes>) {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + 4096);
    let read = store.for_each_row(ids, |id, row| {
        if serde_json::to_writer(&mut buf, &Line { id, row: &row }).is_err() {
            return false;
        }
        buf.push(b'\n');
        if buf.len() < CHUNK {
            return true;
        }
        tx.blocking_send(Bytes::from(std::mem::take(&mut buf)))
            .is_ok()
    });
    if let Err(e) = read {
        let line = serde_json::json!({ "error": e.to_string() }).to_string();
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
    }
    if !buf.is_empty() {
        let _ = tx.blocking_send(Bytes::from(buf));
    }
}

/// `/runs/<id>/samples.jsonl?dataset=&subset=&correct=&q=`: the matching samples as JSON lines.
pub async fn samples_export(
    State(st): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = sample_query(&query_map(raw));
    let name = file_name(&id);
    let prepared = tokio::task::spawn_blocking(move || {
        let (store, _) = run_store(&st, &id)?;
        let ids = store.matching(&q).map_err(|e| Box::new(server_error(e)))?;
        Ok::<_, Box<Response>>((store, ids))
    })
    .await;
    let (store, ids) = match prepared {
        Ok(Ok(p)) => p,
        Ok(Err(page)) => return *page,
        Err(e) => return server_error(format!("export failed: {e}")),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    tokio::task::spawn_blocking(move || stream_rows(&store, &ids, &tx));
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, Infallible>));
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/x-ndjson; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_plain() {
        assert_eq!(
            file_name("20261128_eval-a"),
            "20261128_eval-a-samples.jsonl"
        );
        assert_eq!(file_name("a\"b/c d"), "a_b_c_d-samples.jsonl");
    }
}
