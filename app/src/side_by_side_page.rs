//! The page of two models' answers side by side: the outcome counts with McNemar's test, and the
//! pairs one page at a time, each answer linked to its own sample page. Everything shown is
//! escaped (model output is untrusted HTML).

use std::fmt::Write;

use super::samples::SampleRow;
use super::side_by_side::{Pair, Show, Tally};
use super::templates::{nav, pager, verdict};
use swarm_report::html::escape::{esc, url_encode};
use swarm_report::html::page::{page, table};

/// One side of the comparison: a run and one of its models.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    /// The run's id.
    pub run: String,
    /// The model folder compared.
    pub model: String,
    /// Every model the run holds samples of.
    pub models: Vec<String>,
}

/// What the page asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct PairQuery {
    /// Benchmark, empty for all.
    pub dataset: String,
    /// Which pairs to list.
    pub show: Show,
    /// 1-based page.
    pub page: usize,
}

/// Pairs per page.
pub const PER_PAGE: usize = 20;

/// The page's URL for `a`, `b` and `q`, at `page_no` and showing `show`.
pub fn pairs_link(a: &Side, b: &Side, q: &PairQuery, show: Show, page_no: usize) -> String {
    format!(
        "/compare/samples?a={}&a_model={}&b={}&b_model={}&dataset={}&show={}&page={page_no}",
        url_encode(&a.run),
        url_encode(&a.model),
        url_encode(&b.run),
        url_encode(&b.model),
        url_encode(&q.dataset),
        show.value()
    )
}

fn cell(run: &str, id: Option<i64>, row: Option<&SampleRow>) -> String {
    let (Some(id), Some(r)) = (id, row) else {
        return "<span class=\"muted\">not answered</span>".into();
    };
    let verdict = verdict(r);
    format!(
        "<pre class=\"answer\">{}</pre>extracted <b>{}</b> · score {verdict} · <a class=\"sample\" href=\"/runs/{}/samples/{id}\">sample page</a>",
        esc(&r.answer),
        esc(&r.extracted),
        url_encode(run)
    )
}

/// One listed pair with each side's answer read back (`None` where a side did not answer).
pub struct ShownPair<'a> {
    /// The pair.
    pub pair: &'a Pair,
    /// The first side's answer.
    pub a: Option<SampleRow>,
    /// The second side's answer.
    pub b: Option<SampleRow>,
}

/// The page: `a` against `b` over `pairs` (all of them: counted here), how many `q.show`
/// lists, and the pairs of the page asked for.
pub struct PairsPage<'a> {
    /// The first side.
    pub a: &'a Side,
    /// The second side.
    pub b: &'a Side,
    /// What is asked.
    pub q: &'a PairQuery,
    /// Every pair of the chosen dataset.
    pub pairs: &'a [Pair],
    /// How many pairs `q.show` keeps.
    pub listed: usize,
    /// The benchmarks either side answered.
    pub datasets: &'a [String],
    /// This page's pairs.
    pub shown: &'a [ShownPair<'a>],
}

impl PairsPage<'_> {
    /// The whole HTML page.
    pub fn render(&self) -> String {
        let (a, b, q) = (self.a, self.b, self.q);
        let mut body = String::new();
        let _ = write!(
            body,
            "<p>A: <a href=\"/runs/{}\">{}</a> / {} · B: <a href=\"/runs/{}\">{}</a> / {}</p>",
            url_encode(&a.run),
            esc(&a.run),
            esc(&a.model),
            url_encode(&b.run),
            esc(&b.run),
            esc(&b.model)
        );
        body.push_str(&self.form());
        body.push_str(&self.summary());
        let pages = self.listed.div_ceil(PER_PAGE).max(1);
        let _ = write!(
            body,
            "<p id=\"pair-count\" data-listed=\"{n}\">{n} pairs listed · page {} of {pages}</p>",
            q.page,
            n = self.listed
        );
        let rows: Vec<Vec<String>> = self
            .shown
            .iter()
            .map(
                |ShownPair {
                     pair: p,
                     a: ra,
                     b: rb,
                 }| {
                    let (ra, rb) = (ra.as_ref(), rb.as_ref());
                    let any = ra.or(rb);
                    vec![
                        format!(
                            "{}<br><span class=\"muted\">{} #{} r{}</span>",
                            esc(&p.key.dataset),
                            esc(&p.key.subset),
                            esc(&p.key.index),
                            p.key.repeat
                        ),
                        format!(
                            "<pre class=\"question\">{}</pre>",
                            esc(any.map(|r| r.question.as_str()).unwrap_or_default())
                        ),
                        cell(&a.run, p.a.as_ref().map(|k| k.id), ra),
                        cell(&b.run, p.b.as_ref().map(|k| k.id), rb),
                        format!(
                            "<span class=\"gold\">{}</span>",
                            esc(any.map(|r| r.gold.as_str()).unwrap_or_default())
                        ),
                    ]
                },
            )
            .collect();
        body.push_str(&table(
            "pairs",
            &["sample", "question", "A", "B", "gold"],
            &rows,
        ));
        body.push_str(&pager(q.page, pages, |n| pairs_link(a, b, q, q.show, n)));
        page("answers side by side", &nav(None), &body)
    }

    fn form(&self) -> String {
        let (a, b, q) = (self.a, self.b, self.q);
        let select = |name: &str, options: &[(String, String)], current: &str| {
            let opts: String = options
                .iter()
                .map(|(v, label)| {
                    format!(
                        "<option value=\"{}\"{}>{}</option>",
                        esc(v),
                        if v == current { " selected" } else { "" },
                        esc(label)
                    )
                })
                .collect();
            format!("<select name=\"{name}\">{opts}</select>")
        };
        let models = |s: &Side| -> Vec<(String, String)> {
            s.models.iter().map(|m| (m.clone(), m.clone())).collect()
        };
        let datasets: Vec<(String, String)> = std::iter::once((String::new(), "all".to_owned()))
            .chain(self.datasets.iter().map(|d| (d.clone(), d.clone())))
            .collect();
        let shows: Vec<(String, String)> = Show::ALL
            .iter()
            .map(|(_, v, label)| ((*v).to_owned(), (*label).to_owned()))
            .collect();
        format!(
            "<form class=\"filters\" method=\"get\" action=\"/compare/samples\"><input type=\"hidden\" name=\"a\" value=\"{}\"><input type=\"hidden\" name=\"b\" value=\"{}\"><label>A model{}</label><label>B model{}</label><label>dataset{}</label><label>show{}</label><button type=\"submit\">Show</button></form>",
            esc(&a.run),
            esc(&b.run),
            select("a_model", &models(a), &a.model),
            select("b_model", &models(b), &b.model),
            select("dataset", &datasets, &q.dataset),
            select("show", &shows, q.show.value()),
        )
    }

    fn summary(&self) -> String {
        let (a, b, q) = (self.a, self.b, self.q);
        let t = Tally::of(self.pairs);
        let link = |show: Show, n: usize| {
            format!("<a href=\"{}\">{n}</a>", esc(&pairs_link(a, b, q, show, 1)))
        };
        let rows = vec![
            vec![
                "A right".into(),
                link(Show::Both, t.both),
                link(Show::OnlyA, t.only_a),
            ],
            vec![
                "A wrong".into(),
                link(Show::OnlyB, t.only_b),
                link(Show::Neither, t.neither),
            ],
        ];
        let mut out =
            String::from("<section class=\"tally\"><h2>Outcomes on the samples both answered</h2>");
        out.push_str(&table("tally", &["", "B right", "B wrong"], &rows));
        let matched = t.matched();
        let pct = |n: usize| {
            if matched == 0 {
                "-".to_owned()
            } else {
                format!("{:.2}%", 100.0 * n as f64 / matched as f64)
            }
        };
        let _ = write!(
            out,
            "<p id=\"accuracy\">{matched} samples answered by both: A {} right, B {} right.",
            pct(t.both + t.only_a),
            pct(t.both + t.only_b)
        );
        match t.mcnemar_p() {
            Some(p) => {
                let _ = write!(
                    out,
                    " McNemar's exact test on the {} discordant pairs: <b id=\"mcnemar\">p = {}</b> ({}).",
                    t.only_a + t.only_b,
                    if p < 1e-4 {
                        format!("{p:.2e}")
                    } else {
                        format!("{p:.4}")
                    },
                    if p < 0.05 {
                        "the accuracies differ beyond chance at the 5% level"
                    } else {
                        "no difference beyond chance at the 5% level"
                    }
                );
            }
            None => out.push_str(" No discordant pairs: the two agree on every sample."),
        }
        out.push_str("</p>");
        if t.a_alone + t.b_alone > 0 {
            let _ = write!(
                out,
                "<p class=\"muted\">answered by one side only: {} by A, {} by B ({})</p>",
                t.a_alone,
                t.b_alone,
                link(Show::Unmatched, t.a_alone + t.b_alone)
            );
        }
        out.push_str("</section>");
        out
    }
}
