//! One sample's own page: the whole conversation sent, reasoning and answer, every metric,
//! metadata and both lines as written, with steps to the previous and next matching sample.
//! Everything shown is escaped (model output is untrusted HTML).

use std::fmt::Write;

use super::samples::SampleQuery;
use super::samples::detail::SampleDetail;
use super::templates::{nav, sample_link, samples_link};
use swarm_report::html::escape::{esc, num};
use swarm_report::html::page::{cards, page, table};

/// The page of sample `id` of `run` (`d`), reached from the samples page `q`; `prev` / `next`:
/// the neighbouring samples that match `q`.
pub fn sample_page(
    run: &str,
    id: i64,
    d: &SampleDetail,
    q: &SampleQuery,
    (prev, next): (Option<i64>, Option<i64>),
) -> String {
    let r = &d.row;
    let mut body = String::new();
    let _ = write!(
        body,
        "<p id=\"sample\" data-id=\"{id}\">{} · {} · #{} · repeat {} · {} <span class=\"muted\">({} line {})</span></p>",
        esc(&r.dataset),
        esc(&r.subset),
        esc(&r.index),
        r.repeat,
        esc(&r.model),
        esc(&d.file),
        d.line
    );
    body.push_str("<div class=\"pager\">");
    if let Some(p) = prev {
        let _ = write!(
            body,
            "<a rel=\"prev\" href=\"{}\">← previous sample</a>",
            esc(&sample_link(run, p, q))
        );
    }
    let _ = write!(
        body,
        "<a rel=\"up\" href=\"{}\">back to the samples</a>",
        esc(&samples_link(run, q, q.page))
    );
    if let Some(n) = next {
        let _ = write!(
            body,
            "<a rel=\"next\" href=\"{}\">next sample →</a>",
            esc(&sample_link(run, n, q))
        );
    }
    body.push_str("</div>");
    body.push_str(&cards(&[
        ("score", r.score.map(num).unwrap_or_else(|| "-".into())),
        ("extracted", r.extracted.clone()),
        ("gold", r.gold.clone()),
    ]));
    body.push_str(match (&r.error, r.score) {
        (Some(_), _) => "",
        (None, Some(_)) if r.correct() => {
            "<p class=\"ok\" id=\"verdict\">correct: full credit on the main metric</p>"
        }
        (None, Some(_)) => "<p class=\"bad\" id=\"verdict\">not correct</p>",
        (None, None) => "<p class=\"muted\" id=\"verdict\">not scored</p>",
    });
    if !d.scores.is_empty() {
        let rows: Vec<Vec<String>> = d
            .scores
            .iter()
            .map(|(k, v)| {
                let main = if *k == d.main { " (main)" } else { "" };
                vec![format!("{}{main}", esc(k)), num(*v)]
            })
            .collect();
        body.push_str("<h2>Metrics</h2>");
        body.push_str(&table("metrics", &["metric", "value"], &rows));
    }
    body.push_str("<h2>Conversation</h2>");
    for (role, text) in &d.messages {
        let _ = write!(
            body,
            "<h3>{}</h3><pre class=\"message\">{}</pre>",
            esc(role),
            esc(text)
        );
    }
    if !r.reasoning.is_empty() {
        let _ = write!(
            body,
            "<h3>assistant: reasoning</h3><pre class=\"reasoning\">{}</pre>",
            esc(&r.reasoning)
        );
    }
    let _ = write!(
        body,
        "<h3>assistant: answer</h3><pre class=\"answer\">{}</pre>",
        esc(&r.answer)
    );
    if let Some(e) = &r.error {
        let _ = write!(body, "<p class=\"bad\">request failed: {}</p>", esc(e));
    }
    if let Some(m) = &d.metadata {
        let _ = write!(
            body,
            "<h2>Metadata</h2><pre class=\"metadata\">{}</pre>",
            esc(m)
        );
    }
    if !d.judge.is_empty() {
        body.push_str("<h2>Judge</h2>");
    }
    for a in &d.judge {
        let prompt = a
            .messages
            .iter()
            .filter_map(|m| m.get("content").and_then(|c| c.as_str()))
            .collect::<Vec<_>>()
            .join("\n\n");
        let _ = write!(
            body,
            "<h3>{} ({})</h3><pre class=\"judge-prompt\">{}</pre>",
            esc(&a.judge_id),
            esc(a.status.name()),
            esc(&prompt)
        );
        if let Some(reply) = &a.raw_response {
            let _ = write!(
                body,
                "<h3>judge reply</h3><pre class=\"judge-reply\">{}</pre>",
                esc(reply)
            );
        }
        if let Some(e) = &a.error {
            let _ = write!(body, "<p class=\"bad\">judge: {}</p>", esc(e));
        }
    }
    body.push_str("<h2>As written</h2>");
    let _ = write!(
        body,
        "<details><summary>prediction line</summary><pre class=\"raw\">{}</pre></details>",
        esc(&d.prediction)
    );
    if let Some(rv) = &d.review {
        let _ = write!(
            body,
            "<details><summary>review line</summary><pre class=\"raw\">{}</pre></details>",
            esc(rv)
        );
    }
    page(&format!("sample: {run}"), &nav(Some(run)), &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::SampleRow;

    fn detail(answer: &str) -> SampleDetail {
        let row = SampleRow {
            dataset: "gsm8k".into(),
            subset: "main".into(),
            model: "m".into(),
            index: "3".into(),
            repeat: 0,
            question: "2+2?".into(),
            reasoning: String::new(),
            answer: answer.into(),
            extracted: "4".into(),
            gold: "4".into(),
            score: Some(1.0),
            error: None,
        };
        SampleDetail {
            row,
            file: "eval/predictions/m/gsm8k_main.jsonl".into(),
            line: 4,
            messages: vec![
                ("system".into(), "be <i>brief</i>".into()),
                ("user".into(), "2+2?".into()),
            ],
            scores: [("acc".to_owned(), 1.0), ("other".to_owned(), 0.25)]
                .into_iter()
                .collect(),
            main: "acc".into(),
            metadata: None,
            prediction: "{\"index\": 3}".into(),
            review: None,
            judge: Vec::new(),
        }
    }

    #[test]
    fn the_page_shows_the_conversation_metrics_and_steps() {
        let q = SampleQuery {
            dataset: "gsm8k".into(),
            page: 2,
            ..Default::default()
        };
        let html = sample_page(
            "run 1",
            7,
            &detail("<script>x</script>"),
            &q,
            (Some(5), None),
        );
        assert!(
            html.contains(
                "<h3>system</h3><pre class=\"message\">be &lt;i&gt;brief&lt;/i&gt;</pre>"
            )
        );
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>"));
        assert!(html.contains("<td>acc (main)</td>") && html.contains("0.25"));
        assert!(html.contains("id=\"verdict\">correct"));
        assert!(html.contains("eval/predictions/m/gsm8k_main.jsonl line 4"));
        assert!(html.contains(
            "href=\"/runs/run%201/samples/5?dataset=gsm8k&amp;subset=&amp;correct=&amp;q=&amp;page=2&amp;per_page=20\""
        ));
        assert!(html.contains("rel=\"up\" href=\"/runs/run%201/samples?dataset=gsm8k"));
        assert!(!html.contains("rel=\"next\""), "no sample after this one");
        assert!(!html.contains("<h2>Judge</h2>"), "no judge was asked");
    }

    #[test]
    fn a_judged_sample_shows_the_judges_prompt_and_reply() {
        let review = serde_json::json!({"sample_score": {"score": {"metadata": {"judge_attempts": [
            {"status": "success", "case_id": "judge", "judge_id": "j<1>", "repeat_id": 0,
             "placement": "original", "messages": [{"role": "user", "content": "[Question] 2+2 <b>"}],
             "raw_response": "{\"verdict\": \"A\"}", "parsed_value": {"verdict": "A"}, "latency": 0.1}]}}}});
        let mut d = detail("4");
        d.judge = crate::samples::detail::judge_attempts_of(&review);
        assert_eq!(d.judge.len(), 1);
        let html = sample_page("r", 1, &d, &SampleQuery::default(), (None, None));
        assert!(
            html.contains("<h2>Judge</h2><h3>j&lt;1&gt; (success)</h3>"),
            "{html}"
        );
        assert!(html.contains("<pre class=\"judge-prompt\">[Question] 2+2 &lt;b&gt;</pre>"));
        assert!(
            html.contains("<pre class=\"judge-reply\">{&quot;verdict&quot;: &quot;A&quot;}</pre>"),
            "{html}"
        );
    }
}
