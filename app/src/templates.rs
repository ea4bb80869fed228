//! The dashboard's pages: the runs list, the samples browser and the navigation around the
//! shared report page. Everything shown is escaped (model output is untrusted HTML).

use crate::index::RunState;
use std::fmt::Write;

use super::index::{RunEntry, RunFilter};
use super::samples::{PageRow, Progress, SamplePage, SampleQuery, SampleRow, SampleStore};
use swarm_report::html::escape::{esc, num, url_encode};
use swarm_report::html::page::{page, table};

/// The links at the top of every dashboard page (`run`: the run being looked at).
pub fn nav(run: Option<&str>) -> String {
    let mut out = String::from("<nav><a href=\"/\">Runs</a>");
    if let Some(id) = run {
        let id = url_encode(id);
        let _ = write!(
            out,
            " · <a href=\"/runs/{id}\">Report</a> · <a href=\"/runs/{id}/samples\">Samples</a> · <a href=\"/runs/{id}/live\">Live</a>"
        );
    }
    out.push_str("</nav>");
    out
}

/// The runs list with its filters and a compare form.
pub fn runs_page(runs: &[RunEntry], filter: &RunFilter) -> String {
    let shown: Vec<&RunEntry> = runs.iter().filter(|r| r.matches(filter)).collect();
    let mut body = String::new();
    let option = |value: &str, label: &str, current: &str| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if value == current { " selected" } else { "" },
            esc(label)
        )
    };
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/\"><label>model<input name=\"model\" value=\"{}\"></label><label>kind<select name=\"kind\">{}{}{}{}</select></label><label>date<input name=\"date\" placeholder=\"2026-11-27\" value=\"{}\"></label><button type=\"submit\">Filter</button></form>",
        esc(&filter.model),
        option("", "any", &filter.kind),
        option("perf", "perf", &filter.kind),
        option("eval", "eval", &filter.kind),
        option("think-eval", "think-eval", &filter.kind),
        esc(&filter.date)
    );
    let _ = write!(
        body,
        "<p class=\"muted\" id=\"run-count\">{} of {} runs</p>",
        shown.len(),
        runs.len()
    );
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|r| {
            let id = url_encode(&r.id);
            vec![
                format!(
                    "<input type=\"checkbox\" name=\"run\" value=\"{}\" form=\"compare\">",
                    esc(&r.id)
                ),
                format!("<a class=\"run\" href=\"/runs/{id}\">{}</a>", esc(&r.id)),
                esc(&r.date),
                esc(&r.kinds.join(" + ")),
                esc(&r.models.join(", ")),
                match &r.state {
                    RunState::Running => {
                        format!("<a class=\"running\" href=\"/runs/{id}/live\">running</a>")
                    }
                    RunState::Interrupted => {
                        "<span class=\"bad\">interrupted (no update for minutes)</span>".into()
                    }
                    RunState::Done => "done".into(),
                    RunState::Cancelled => "cancelled".into(),
                    RunState::Failed(e) => {
                        format!("<span class=\"bad\">failed: {}</span>", esc(e.as_str()))
                    }
                    RunState::Unrecorded => "<span class=\"muted\">no run.json</span>".into(),
                    RunState::Unreadable(why) => {
                        format!(
                            "<span class=\"bad\">unreadable run.json: {}</span>",
                            esc(why)
                        )
                    }
                },
                if r.kinds.contains(&"eval") {
                    format!("<a href=\"/runs/{id}/samples\">samples</a>")
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    body.push_str(&table(
        "runs",
        &["", "run", "date (UTC)", "kind", "models", "state", ""],
        &rows,
    ));
    body.push_str("<form id=\"compare\" method=\"get\" action=\"/compare\"><button type=\"submit\">Compare selected</button></form>");
    page("swarmbench runs", &nav(None), &body)
}

/// `q` as a URL query string (no `?`), at page `page_no`.
fn query_string(q: &SampleQuery, page_no: usize) -> String {
    let correct = match q.correct {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    format!(
        "dataset={}&subset={}&correct={correct}&q={}&page={page_no}&per_page={}",
        url_encode(&q.dataset),
        url_encode(&q.subset),
        url_encode(&q.text),
        q.per_page
    )
}

/// The samples page of `run` for `q` at page `page_no`.
pub fn samples_link(run: &str, q: &SampleQuery, page_no: usize) -> String {
    format!(
        "/runs/{}/samples?{}",
        url_encode(run),
        query_string(q, page_no)
    )
}

/// The page of sample `id` of `run`, reached from the samples page `q` (which it links back to
/// and steps through).
pub fn sample_link(run: &str, id: i64, q: &SampleQuery) -> String {
    format!(
        "/runs/{}/samples/{id}?{}",
        url_encode(run),
        query_string(q, q.page)
    )
}

/// Previous / next links of page `page` of `pages`, each page's URL made by `link`.
pub fn pager(page: usize, pages: usize, link: impl Fn(usize) -> String) -> String {
    let mut out = String::from("<div class=\"pager\">");
    if page > 1 {
        let _ = write!(
            out,
            "<a rel=\"prev\" href=\"{}\">← previous</a>",
            esc(&link(page - 1))
        );
    }
    if page < pages {
        let _ = write!(
            out,
            "<a rel=\"next\" href=\"{}\">next →</a>",
            esc(&link(page + 1))
        );
    }
    out.push_str("</div>");
    out
}

/// A sample's score (green when full credit) or its request's error, as HTML.
pub fn verdict(r: &SampleRow) -> String {
    match (r.score, &r.error) {
        (_, Some(e)) => format!("<span class=\"bad\">error: {}</span>", esc(e)),
        (Some(s), _) => format!(
            "<span class=\"{}\">{}</span>",
            if r.correct() { "ok" } else { "bad" },
            num(s)
        ),
        (None, _) => "-".into(),
    }
}

/// The samples browser of a run: filters, counts, one page of samples, pager.
pub fn samples_page(
    run: &str,
    ix: &SampleStore,
    q: &SampleQuery,
    p: &SamplePage,
    refreshing: bool,
) -> String {
    let mut body = String::new();
    let opt = |value: &str, current: &str| {
        format!(
            "<option value=\"{v}\"{s}>{v}</option>",
            v = esc(value),
            s = if value == current { " selected" } else { "" }
        )
    };
    let datasets: String = std::iter::once(String::from("<option value=\"\">any</option>"))
        .chain(ix.facets.keys().map(|d| opt(d, &q.dataset)))
        .collect();
    let subsets: String = std::iter::once(String::from("<option value=\"\">any</option>"))
        .chain(
            ix.facets
                .iter()
                .filter(|(d, _)| q.dataset.is_empty() || **d == q.dataset)
                .flat_map(|(_, s)| s.iter())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .map(|s| opt(s, &q.subset)),
        )
        .collect();
    let correct = match q.correct {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/runs/{}/samples\"><label>dataset<select name=\"dataset\">{datasets}</select></label><label>subset<select name=\"subset\">{subsets}</select></label><label>correct<select name=\"correct\"><option value=\"\"{}>any</option><option value=\"yes\"{}>correct</option><option value=\"no\"{}>wrong</option></select></label><label>search<input name=\"q\" value=\"{}\"></label><input type=\"hidden\" name=\"per_page\" value=\"{}\"><button type=\"submit\">Filter</button></form>",
        url_encode(run),
        if correct.is_empty() { " selected" } else { "" },
        if correct == "yes" { " selected" } else { "" },
        if correct == "no" { " selected" } else { "" },
        esc(&q.text),
        q.per_page
    );
    let pages = p.matched.div_ceil(q.per_page.max(1)).max(1);
    let accuracy = if p.matched > 0 {
        format!(
            " · {} correct ({:.2}%)",
            p.matched_correct,
            100.0 * p.matched_correct as f64 / p.matched as f64
        )
    } else {
        String::new()
    };
    let _ = write!(
        body,
        "<p id=\"sample-count\" data-matched=\"{}\">{} of {} samples match{accuracy} · page {} of {pages}</p>",
        p.matched, p.matched, ix.total, q.page
    );
    let _ = write!(
        body,
        "<p><a id=\"export\" href=\"{}\" download>download these {} samples (JSON lines)</a></p>",
        esc(&format!(
            "/runs/{}/samples.jsonl?{}",
            url_encode(run),
            query_string(q, 1)
        )),
        p.matched
    );
    if ix.models.len() > 1 {
        let sides: Vec<(String, String)> = ix
            .models
            .iter()
            .map(|m| (run.to_owned(), m.clone()))
            .collect();
        body.push_str(&super::compare::side_by_side_links(&sides));
    }
    if refreshing {
        body.push_str("<p class=\"muted\" id=\"refreshing\">the run's files changed: a newer index is being built; these are the samples indexed before</p>");
    }
    if let Some(first) = ix.skipped.first() {
        let _ = write!(
            body,
            "<p class=\"bad\">{} unreadable lines skipped, first: {}</p>",
            ix.skipped_count,
            esc(first)
        );
    }
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|PageRow { id, row: r }| {
            vec![
                format!(
                    "<a class=\"sample\" href=\"{}\">{}</a><br><span class=\"muted\">{} #{} r{} · {}</span>",
                    esc(&sample_link(run, *id, q)),
                    esc(&r.dataset),
                    esc(&r.subset),
                    esc(&r.index),
                    r.repeat,
                    esc(&r.model)
                ),
                format!("<pre class=\"question\">{}</pre>", esc(&r.question)),
                if r.reasoning.is_empty() {
                    String::new()
                } else {
                    format!("<pre class=\"reasoning\">{}</pre>", esc(&r.reasoning))
                },
                format!("<pre class=\"answer\">{}</pre>", esc(&r.answer)),
                esc(&r.extracted),
                format!("<span class=\"gold\">{}</span>", esc(&r.gold)),
                verdict(r),
            ]
        })
        .collect();
    body.push_str(&table(
        "samples",
        &[
            "sample",
            "question",
            "reasoning",
            "answer",
            "extracted",
            "gold",
            "score",
        ],
        &rows,
    ));
    body.push_str(&pager(q.page, pages, |n| samples_link(run, q, n)));
    page(&format!("samples: {run}"), &nav(Some(run)), &body)
}

/// What the samples page shows while a run's samples are still being indexed; it reloads itself
/// every second until the index is ready.
pub fn indexing_page(run: &str, progress: &Progress) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let total = progress.files_total.load(Relaxed);
    let done = progress.files_done.load(Relaxed);
    let body = format!(
        "<p id=\"indexing\" data-files-done=\"{done}\" data-files-total=\"{total}\">indexing the samples of this run: {done} of {total} prediction files read, {} samples so far ({:.0}%). The index is kept beside the run, so this happens once.</p>",
        progress.rows_done.load(Relaxed),
        if total > 0 {
            100.0 * done as f64 / total as f64
        } else {
            0.0
        }
    );
    page(&format!("samples: {run}"), &nav(Some(run)), &body).replacen(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\">",
        1,
    )
}

/// A page that says what went wrong.
pub fn error_page(message: &str) -> String {
    page(
        "swarmbench",
        &nav(None),
        &format!("<p class=\"bad\">{}</p>", esc(message)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Relaxed;

    #[test]
    fn the_indexing_page_shows_progress_and_reloads_itself() {
        let p = Progress::default();
        p.files_total.store(8, Relaxed);
        p.files_done.store(2, Relaxed);
        p.rows_done.store(25_000, Relaxed);
        let html = indexing_page("r<1>", &p);
        assert!(html.contains("2 of 8 prediction files read, 25000 samples so far (25%)"));
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"1\">"));
        assert!(html.contains("r&lt;1&gt;") && !html.contains("r<1>"));
    }
}
