//! `coordinator app` over loopback HTTP: the runs list and its filters, a run's report, eval
//! samples filtered and paged on the server, a comparison, the live page, escaping of model
//! output, two think-eval outputs compared, and the loopback-only default.

use std::net::SocketAddr;
use std::path::Path;

use swarm_coordinator::app::{AppArgs, serve};
use swarm_coordinator::think::run::think_eval;
use swarm_eval::think::{METRICS, display};
use swarm_tests::app_fixture::{HOSTILE, correct, eval_run, perf_run, subset_of};
use swarm_tests::schemas::read_json;
use tokio_util::sync::CancellationToken;

use super::think_eval::args as think_args;

pub const ALPHA: &str = "20261127_100000_eval-alpha";
pub const BETA: &str = "20261126_090000_eval-beta";
pub const PERF: &str = "20261125_080000_perf-gamma";
pub const ALPHA_SAMPLES: usize = 45;

/// Three synthetic runs under `outputs`: two evals (alpha: 45 samples, beta: 12) and a sweep.
pub fn outputs(outputs: &Path) {
    eval_run(outputs, ALPHA, "alpha-7b", ALPHA_SAMPLES).expect("alpha");
    eval_run(outputs, BETA, "beta-13b", 12).expect("beta");
    perf_run(outputs, PERF, "gamma", &[1, 4], 50).expect("perf");
}

/// Serves `outputs` on a free loopback port until `cancel`.
pub async fn start(outputs: &Path, cancel: &CancellationToken) -> SocketAddr {
    let args = AppArgs {
        outputs_dir: outputs.to_path_buf(),
        bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        allow_remote: false,
    };
    serve(&args, cancel.clone()).await.expect("app binds")
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = reqwest::get(format!("http://{addr}{path}"))
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, r.text().await.expect("body"), headers)
}

fn count_of(html: &str, class: &str) -> usize {
    html.matches(&format!("class=\"{class}\"")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_filters_pages_compares_and_escapes() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    outputs(tmp.path());
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;

    // runs list and its filters
    let (status, html, headers) = get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("default-src 'none'"),
        "no script may run"
    );
    assert!(html.contains("3 of 3 runs"), "{html}");
    assert!(html.find(ALPHA) < html.find(BETA), "newest first");
    let (_, html, _) = get(addr, "/?model=BETA").await;
    assert!(html.contains("1 of 3 runs") && html.contains(BETA) && !html.contains(ALPHA));
    let (_, html, _) = get(addr, "/?kind=perf").await;
    assert!(html.contains("1 of 3 runs") && html.contains(PERF) && html.contains("gamma"));
    let (_, html, _) = get(addr, "/?date=2026-11-2&kind=eval").await;
    assert!(html.contains("2 of 3 runs"));
    let (_, html, _) = get(addr, "/?date=2026-11-27").await;
    assert!(html.contains("1 of 3 runs") && html.contains(ALPHA));

    // a run's report
    let (status, html, _) = get(addr, &format!("/runs/{PERF}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Sweep overview") && html.contains("parallel_4"));
    assert!(html.contains("http_5xx"), "the synthetic 5xx failures");
    let (status, _, _) = get(addr, "/runs/..%2Fetc").await;
    assert_eq!(status, 404);
    let (status, _, _) = get(addr, "/runs/nope").await;
    assert_eq!(status, 404);

    // samples: server-side paging
    let base = format!("/runs/{ALPHA}/samples");
    let (_, html, _) = get(addr, &format!("{base}?per_page=10")).await;
    assert!(html.contains("data-matched=\"45\""), "{html}");
    assert_eq!(count_of(&html, "answer"), 10);
    assert!(html.contains("page 1 of 5") && html.contains("rel=\"next\""));
    // five pages of 10 hold every sample exactly once
    let mut seen = Vec::new();
    for page in 1..=5 {
        let (_, html, _) = get(addr, &format!("{base}?per_page=10&page={page}")).await;
        assert_eq!(count_of(&html, "answer"), if page < 5 { 10 } else { 5 });
        for i in 0..ALPHA_SAMPLES {
            if html.contains(&format!("Question {i}: ")) {
                seen.push(i);
            }
        }
        if page == 5 {
            assert!(!html.contains("rel=\"next\"") && html.contains("rel=\"prev\""));
        }
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..ALPHA_SAMPLES).collect::<Vec<_>>());
    // filters: dataset, subset, correctness, text
    let want = |f: &dyn Fn(usize) -> bool| (0..ALPHA_SAMPLES).filter(|i| f(*i)).count();
    let (_, html, _) = get(
        addr,
        &format!("{base}?dataset=gsm8k&correct=yes&per_page=200"),
    )
    .await;
    let n = want(&|i| subset_of(i).0 == "gsm8k" && correct(i));
    assert!(html.contains(&format!("data-matched=\"{n}\"")), "{n}");
    assert_eq!(count_of(&html, "ok"), n, "every row shown is correct");
    let (_, html, _) = get(addr, &format!("{base}?subset=Level%203&correct=no")).await;
    let n = want(&|i| subset_of(i).1 == "Level 3" && !correct(i));
    assert!(html.contains(&format!("data-matched=\"{n}\"")), "{n}");
    let (_, html, _) = get(addr, &format!("{base}?q=question+4%3A")).await;
    assert!(html.contains("data-matched=\"1\"") && html.contains("Question 4:"));
    // untrusted model output renders as text
    let (_, html, _) = get(addr, &format!("{base}?q=pwned")).await;
    assert!(html.contains("data-matched=\"1\""));
    assert!(!html.contains("<script>") && !html.contains("<img src=x"));
    assert!(html.contains(&swarm_coordinator::report::html::escape::esc(HOSTILE)));
    // the same samples downloaded as JSON lines: raw text, not HTML
    let export = links(&html, "<a id=\"export\" href=\"");
    assert_eq!(
        export,
        vec![format!(
            "/runs/{ALPHA}/samples.jsonl?dataset=&subset=&correct=&q=pwned&page=1&per_page=20"
        )]
    );
    let (status, body, headers) = get(addr, &export[0]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/x-ndjson")
    );
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["answer"], HOSTILE);
    let (_, body, _) = get(
        addr,
        &format!("/runs/{ALPHA}/samples.jsonl?dataset=gsm8k&correct=yes"),
    )
    .await;
    let n = want(&|i| subset_of(i).0 == "gsm8k" && correct(i));
    let rows: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rows.len(), n);
    assert!(
        rows.iter()
            .all(|r| r["dataset"] == "gsm8k" && r["score"] == 1.0 && r["id"].is_i64())
    );
    let (_, all, _) = get(addr, &format!("/runs/{ALPHA}/samples.jsonl")).await;
    assert_eq!(all.lines().count(), ALPHA_SAMPLES);
    let (status, _, _) = get(addr, "/runs/nope/samples.jsonl").await;
    assert_eq!(status, 404);
    // its own page: the whole sample, escaped, alone among those matching the search
    let only = links(&html, "<a class=\"sample\" href=\"");
    assert_eq!(only.len(), 1);
    let (status, page, _) = get(addr, &only[0]).await;
    assert_eq!(status, 200);
    assert!(!page.contains("<script>") && !page.contains("<img src=x"));
    assert!(page.contains(&swarm_coordinator::report::html::escape::esc(HOSTILE)));
    assert!(page.contains("<h3>user</h3>") && page.contains("<td>acc (main)</td>"));
    assert!(!page.contains("rel=\"next\"") && !page.contains("rel=\"prev\""));
    assert_eq!(
        links(&page, "rel=\"up\" href=\""),
        vec![format!(
            "{base}?dataset=&subset=&correct=&q=pwned&page=1&per_page=20"
        )]
    );
    // stepping through a filtered list visits its rows in order
    let (_, list, _) = get(
        addr,
        &format!("{base}?dataset=gsm8k&correct=yes&per_page=200"),
    )
    .await;
    let rows = links(&list, "<a class=\"sample\" href=\"");
    assert!(rows.len() >= 2, "{list}");
    let (_, first, _) = get(addr, &rows[0]).await;
    assert!(
        first.contains("<div class=\"v\">1</div><div class=\"k\">score</div>"),
        "{first}"
    );
    assert_eq!(links(&first, "rel=\"next\" href=\""), vec![rows[1].clone()]);
    let (_, second, _) = get(addr, &rows[1]).await;
    assert_eq!(
        links(&second, "rel=\"prev\" href=\""),
        vec![rows[0].clone()]
    );
    let (status, _, _) = get(addr, &format!("{base}/99999999999")).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(addr, &format!("{base}/x1")).await;
    assert_eq!(status, 404);

    // compare two evals and the sweep
    let (status, html, _) = get(addr, &format!("/compare?run={ALPHA}&run={BETA}&run={PERF}")).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!(
        "<th>{ALPHA} / alpha-7b</th><th>{BETA} / beta-13b</th>"
    )));
    let alpha = std::fs::read_to_string(
        tmp.path()
            .join(ALPHA)
            .join("eval/reports/alpha-7b/gsm8k.json"),
    )
    .expect("report");
    let beta = std::fs::read_to_string(
        tmp.path()
            .join(BETA)
            .join("eval/reports/beta-13b/gsm8k.json"),
    )
    .expect("report");
    let score = |t: &str| {
        serde_json::from_str::<serde_json::Value>(t).expect("json")["score"]
            .as_f64()
            .expect("score")
    };
    assert!(
        html.contains(&format!(
            "<tr><td>gsm8k</td><td>mean_acc</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td></tr>",
            score(&alpha),
            score(&beta)
        )),
        "{html}"
    );
    assert!(html.contains("p99 TTFT per stage") && html.contains("parallel_1"));
    let (status, _, _) = get(addr, &format!("/compare?run={ALPHA}")).await;
    assert_eq!(status, 400);

    // live: a stage writing live.json shows up as running
    let stage = tmp.path().join(PERF).join("perf/chat/parallel_4");
    std::fs::write(
        stage.join("live.json"),
        serde_json::json!({"workload": "chat", "stage": "parallel_4", "elapsed_s": 3.5, "total": 1234, "failed": 5,
            "planned": 5000, "req_per_s": 352.6, "output_tok_per_s": 2820.8, "ttft_p99_ms": 41.5, "agents": 3, "updated_unix_ms": 0}).to_string(),
    )
    .expect("live.json");
    let (_, html, _) = get(addr, &format!("/runs/{PERF}/live")).await;
    assert!(html.contains("id=\"live-state\">running") && html.contains("1234 / 5000"));
    assert!(html.contains("352.6000") && html.contains("http-equiv=\"refresh\""));
    let (_, html, _) = get(addr, "/").await;
    assert!(html.contains("class=\"running\""));
    cancel.cancel();
}

/// The targets of the links in `html` that follow `lead` (which ends with `href="`), unescaped.
pub fn links(html: &str, lead: &str) -> Vec<String> {
    html.match_indices(lead)
        .filter_map(|(at, _)| {
            let rest = &html[at + lead.len()..];
            rest.find('"').map(|end| rest[..end].replace("&amp;", "&"))
        })
        .collect()
}

/// The x of the last point of the polyline of `series` in `svg`.
fn last_x(svg: &str, series: &str) -> f64 {
    let tail = format!("\" data-series=\"{series}\"");
    let end = svg.find(&tail).unwrap_or_else(|| panic!("no {series}"));
    let points = &svg[..end];
    let points = &points[points.rfind("points=\"").expect("points") + 8..];
    let last = points.split(' ').next_back().expect("a point");
    last.split(',').next().expect("x").parse().expect("number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_perf_runs_overlay_the_distributions_of_the_stages_they_share() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    // TTFT grows with the request's id: the longer stage reaches higher
    let (short, long) = ("20261128_010000_perf-short", "20261128_020000_perf-long");
    perf_run(tmp.path(), short, "m", &[1, 4], 50).expect("short");
    perf_run(tmp.path(), long, "m", &[4, 8], 100).expect("long");
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let (status, html, _) = get(addr, &format!("/compare?run={short}&run={long}")).await;
    assert_eq!(status, 200);
    let at = html.find("class=\"compare-cdf\"").expect("overlays");
    let section = &html[at..];
    let section = &section[..section.find("</section>").expect("closed")];
    for metric in ["ttft", "latency"] {
        assert!(
            section.contains(&format!("{metric} CDF, stage parallel_4")),
            "{section}"
        );
    }
    assert!(
        !section.contains("stage parallel_1") && !section.contains("stage parallel_8"),
        "only shared stages"
    );
    let ttft = &section[section.find("ttft CDF, stage parallel_4").expect("chart")..];
    let ttft = &ttft[..ttft.find("</svg>").expect("closed")];
    assert!(
        last_x(ttft, long) > last_x(ttft, short),
        "the long stage's p100 TTFT (49.9 ms) lies right of the short one's (44.9 ms)"
    );
    cancel.cancel();
}

/// The table of `class` in `html`.
fn table_of<'a>(html: &'a str, class: &str) -> &'a str {
    let start = html
        .find(&format!("<table class=\"{class}\""))
        .unwrap_or_else(|| panic!("no table {class}"));
    let t = &html[start..];
    &t[..t.find("</table>").expect("closed")]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_think_eval_outputs_compare_side_by_side() {
    swarm_io::tls::install_crypto_provider();
    let tmp = tempfile::tempdir().expect("tempdir");
    let alpha = eval_run(tmp.path(), ALPHA, "alpha-7b", ALPHA_SAMPLES).expect("alpha");
    let beta = eval_run(tmp.path(), BETA, "beta-13b", 12).expect("beta");
    let (think_a, think_b) = ("think-alpha", "think-beta");
    for (run, out) in [(&alpha, think_a), (&beta, think_b)] {
        think_eval(&think_args(vec![run.clone()], &tmp.path().join(out)))
            .await
            .expect("think-eval runs");
    }
    let results = |out: &str, model: &str| {
        read_json(&tmp.path().join(out).join("think_eval_results.json"))["models"][model].clone()
    };
    let (a, b) = (results(think_a, "alpha-7b"), results(think_b, "beta-13b"));
    // the fixture's correct math samples reach the answer in paragraph 2: accuracy is theirs
    for k in 1..=5 {
        let level = format!("Level {k}");
        let of_level: Vec<usize> = (0..ALPHA_SAMPLES)
            .filter(|i| subset_of(*i) == ("math_500", level.clone()))
            .collect();
        let right = of_level.iter().filter(|i| correct(**i)).count();
        assert_eq!(
            a["accuracy"][&level].as_f64(),
            Some(right as f64 / of_level.len() as f64),
            "{level}"
        );
    }

    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let (_, html, _) = get(addr, "/?kind=think-eval").await;
    assert!(html.contains("2 of 4 runs"), "{html}");
    assert!(html.contains(think_a) && html.contains("alpha-7b") && !html.contains(ALPHA));
    let (status, html, _) = get(addr, &format!("/compare?run={think_a}&run={think_b}")).await;
    assert_eq!(status, 200);
    for metric in METRICS {
        let t = table_of(&html, &format!("think-{metric}"));
        assert!(t.contains(&format!(
            "<th>level</th><th>{think_a} / alpha-7b</th><th>{think_b} / beta-13b</th>"
        )));
        let levels = a[metric].as_object().expect("levels");
        assert_eq!(levels.len(), 5, "{metric}");
        for (level, va) in levels {
            let cell = |v: &serde_json::Value| match v.as_f64() {
                Some(x) => display(metric, x),
                None => "-".into(),
            };
            let row = format!(
                "<tr><td>{level}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                cell(va),
                cell(&b[metric][level])
            );
            assert!(t.contains(&row), "{metric}: {row} not in {t}");
        }
    }
    assert_eq!(
        html.matches("<svg").count(),
        METRICS.len(),
        "a chart per metric"
    );
    // a think-eval output's own page shows its tables
    let (status, html, _) = get(addr, &format!("/runs/{think_a}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Thinking efficiency") && html.contains("think-accuracy"));
    cancel.cancel();
}

#[tokio::test]
async fn a_non_loopback_bind_needs_a_flag() {
    let args = AppArgs {
        outputs_dir: "outputs".into(),
        bind: "0.0.0.0:0".parse().expect("addr"),
        allow_remote: false,
    };
    let err = serve(&args, CancellationToken::new())
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("--allow-remote"), "{err}");
}

/// DNS rebinding: a page on another site that points its own name at 127.0.0.1 gets nothing;
/// requests to a loopback name are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_requests_to_a_loopback_name_are_answered() {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir().expect("tempdir");
    outputs(tmp.path());
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let ask = move |host: &'static str| {
        std::thread::spawn(move || {
            let mut s = std::net::TcpStream::connect(addr).expect("connect");
            write!(
                s,
                "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            )
            .expect("send");
            let mut reply = String::new();
            let _ = s.read_to_string(&mut reply);
            reply
        })
        .join()
        .expect("thread")
    };
    let evil = ask("evil.example:8080");
    assert!(evil.starts_with("HTTP/1.1 421"), "{evil}");
    assert!(
        !evil.contains("class=\"run\""),
        "no run listed to a foreign name"
    );
    let good = ask("localhost");
    assert!(
        good.starts_with("HTTP/1.1 200"),
        "{}",
        &good[..good.len().min(200)]
    );
    cancel.cancel();
}
