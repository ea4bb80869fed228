//! Two models' answers side by side over HTTP: outcome counts, McNemar's p-value, the listed
//! pairs and their links, reached from the comparison page.

use swarm_tests::app_fixture::eval_run_scored;
use tokio_util::sync::CancellationToken;

use super::app_http::{links as hrefs, start};

const A: &str = "20261128_100000_eval-a";
const B: &str = "20261128_110000_eval-b";
const N: usize = 30;

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// The number in the tally table's link to `show`.
fn tally(html: &str, show: &str) -> usize {
    let lead = format!("&amp;show={show}&amp;page=1\">");
    let at = html
        .find(&lead)
        .unwrap_or_else(|| panic!("no {show} in {html}"))
        + lead.len();
    html[at..html[at..].find('<').expect("closed") + at]
        .parse()
        .expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_models_answers_are_paired_counted_and_tested() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    // A is right on every third sample, B on every second; B also answered 6 more
    eval_run_scored(tmp.path(), A, "model-a", N, 0, |i| i.is_multiple_of(3)).expect("a");
    eval_run_scored(tmp.path(), B, "model-b", N + 6, 0, |i| i.is_multiple_of(2)).expect("b");
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;

    // the comparison page links to the pairs
    let (status, html) = get(addr, &format!("/compare?run={A}&run={B}")).await;
    assert_eq!(status, 200);
    let links = hrefs(&html, "<a class=\"pairs\" href=\"");
    assert_eq!(
        links,
        vec![format!(
            "/compare/samples?a={A}&a_model=model-a&b={B}&b_model=model-b"
        )]
    );
    let (status, html) = get(addr, &links[0]).await;
    assert_eq!(status, 200, "{html}");
    let count = |f: &dyn Fn(usize) -> bool| (0..N).filter(|i| f(*i)).count();
    let (a, b) = (
        |i: usize| i.is_multiple_of(3),
        |i: usize| i.is_multiple_of(2),
    );
    assert_eq!(tally(&html, "both"), count(&|i| a(i) && b(i)));
    assert_eq!(tally(&html, "a"), count(&|i| a(i) && !b(i)));
    assert_eq!(tally(&html, "b"), count(&|i| !a(i) && b(i)));
    assert_eq!(tally(&html, "neither"), count(&|i| !a(i) && !b(i)));
    assert_eq!(tally(&html, "unmatched"), 6);
    // 5 pairs only A got right against 10 only B did: 2 · P(X ≤ 5), X ~ Bin(15, ½)
    // = 2 · (1 + 15 + 105 + 455 + 1365 + 3003) / 32768
    let p = 2.0 * 4944.0 / 32768.0;
    assert!(
        html.contains(&format!("id=\"mcnemar\">p = {p:.4}</b>")),
        "{html}"
    );
    assert!(html.contains("A 33.33% right, B 50.00% right"), "{html}");
    // the default list: pairs where the two disagree, each answer linked to its sample page
    assert!(html.contains(&format!("data-listed=\"{}\"", count(&|i| a(i) != b(i)))));
    let rows = hrefs(&html, "<a class=\"sample\" href=\"");
    assert_eq!(rows.len(), 2 * 15, "both sides of 15 pairs");
    let (status, sample) = get(addr, &rows[0]).await;
    assert_eq!(status, 200);
    assert!(sample.contains("<h2>Conversation</h2>"));

    // only B's wins, one dataset, paged
    let (_, html) = get(
        addr,
        &format!("/compare/samples?a={A}&b={B}&show=b&dataset=gsm8k"),
    )
    .await;
    let want = count(&|i| i.is_multiple_of(2) && !a(i) && b(i));
    assert!(html.contains(&format!("data-listed=\"{want}\"")), "{html}");
    assert!(html.contains("<option value=\"b\" selected>"));
    // unmatched: the samples only B answered
    let (_, html) = get(
        addr,
        &format!("/compare/samples?a={A}&b={B}&show=unmatched"),
    )
    .await;
    assert!(html.contains("data-listed=\"6\"") && html.contains("not answered"));
    // swapped sides swap the counts
    let (_, html) = get(addr, &format!("/compare/samples?a={B}&b={A}")).await;
    assert_eq!(tally(&html, "a"), count(&|i| !a(i) && b(i)));

    // a page far past the end is an empty page, not an error
    let (status, html) = get(
        addr,
        &format!("/compare/samples?a={A}&b={B}&page={}", usize::MAX),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!html.contains("class=\"sample\"") && !html.contains("rel=\"next\""));
    // two models in one run: its samples page links them side by side
    const BOTH: &str = "20261128_120000_eval-both";
    eval_run_scored(tmp.path(), BOTH, "m1", N, 0, |i| i.is_multiple_of(3)).expect("m1");
    eval_run_scored(tmp.path(), BOTH, "m2", N, 0, |i| i.is_multiple_of(5)).expect("m2");
    let (_, html) = get(addr, &format!("/runs/{BOTH}/samples")).await;
    let within = hrefs(&html, "<a class=\"pairs\" href=\"");
    assert_eq!(
        within,
        vec![format!(
            "/compare/samples?a={BOTH}&a_model=m1&b={BOTH}&b_model=m2"
        )]
    );
    let (_, html) = get(addr, &within[0]).await;
    let m2 = |i: usize| i.is_multiple_of(5);
    assert_eq!(tally(&html, "both"), count(&|i| a(i) && m2(i)));
    assert_eq!(tally(&html, "b"), count(&|i| !a(i) && m2(i)));
    assert!(
        html.contains("<option value=\"m2\" selected>m2</option>"),
        "{html}"
    );
    // the samples page of a one-model run offers no such link
    let (_, html) = get(addr, &format!("/runs/{A}/samples")).await;
    assert!(!html.contains("class=\"pairs\""));

    let (status, _) = get(addr, &format!("/compare/samples?a={A}")).await;
    assert_eq!(status, 400);
    let (status, _) = get(addr, &format!("/compare/samples?a={A}&b=nope")).await;
    assert_eq!(status, 404);
    cancel.cancel();
}
