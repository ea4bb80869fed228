//! The dashboard in headless Chromium (Debian's `chromium`): the runs list, a run's report,
//! samples filtered through the URL the filter form produces, and a comparison, each loaded over
//! loopback; assertions on the DOM Chromium built; screenshots kept under the target folder.
//! Without Chromium the test is skipped, unless SWARM_REQUIRE_BROWSER=1 (CI) makes it fail.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::app_http::{ALPHA, BETA, PERF, outputs, start};

fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome", "chrome"];
    let path = std::env::var_os("PATH")?;
    candidates.iter().find_map(|c| {
        std::env::split_paths(&path)
            .map(|d| d.join(c))
            .find(|p| p.is_file())
    })
}

/// Runs Chromium headless with `args` then `url`; returns stdout. Killed after 60 s.
fn run_chromium(bin: &Path, profile: &Path, args: &[String], url: &str) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                panic!("chromium did not finish loading {url} within 60 s");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let out = child.wait_with_output().expect("output");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Browser {
    bin: PathBuf,
    profile: tempfile::TempDir,
    shots: PathBuf,
    addr: SocketAddr,
}

impl Browser {
    /// The DOM of `path` after load, and a screenshot named `shot`.
    async fn visit(&self, path: &str, shot: &str) -> String {
        let url = format!("http://{}{path}", self.addr);
        let (bin, profile) = (self.bin.clone(), self.profile.path().to_path_buf());
        let png = self.shots.join(format!("{shot}.png"));
        let png_arg = format!("--screenshot={}", png.display());
        let u = url.clone();
        let dom = tokio::task::spawn_blocking(move || {
            let dom = run_chromium(&bin, &profile, &["--dump-dom".to_string()], &u);
            run_chromium(&bin, &profile, &[png_arg], &u);
            dom
        })
        .await
        .expect("chromium thread");
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "screenshot of {url} at {}", png.display());
        assert!(dom.contains("</html>"), "DOM of {url}: {dom}");
        dom
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_headless_chromium() {
    let Some(bin) = chromium() else {
        if std::env::var("SWARM_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("SWARM_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)");
        }
        swarm_tests::skipped(
            "e2e::app_browser",
            "no chromium on PATH (apt-get install chromium; SWARM_REQUIRE_BROWSER=1 makes this fail)",
            true,
        );
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    outputs(tmp.path());
    let cancel = CancellationToken::new();
    let addr = start(tmp.path(), &cancel).await;
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let b = Browser {
        bin,
        profile: tempfile::tempdir().expect("profile"),
        shots: shots.clone(),
        addr,
    };

    // the runs list, then a filter
    let dom = b.visit("/", "runs").await;
    assert!(dom.contains("3 of 3 runs"), "{dom}");
    for id in [ALPHA, BETA, PERF] {
        assert!(dom.contains(&format!("href=\"/runs/{id}\"")), "{id} listed");
    }
    let dom = b.visit("/?kind=eval&model=alpha", "runs-filtered").await;
    assert!(dom.contains("1 of 3 runs") && dom.contains(ALPHA) && !dom.contains(PERF));

    // open a run: the report with its charts
    let dom = b.visit(&format!("/runs/{PERF}"), "report-perf").await;
    assert!(dom.contains("Sweep overview") && dom.contains("<svg"));
    assert!(dom.contains("p99 TTFT against load"));
    let dom = b.visit(&format!("/runs/{ALPHA}"), "report-eval").await;
    assert!(dom.contains("gsm8k: score per subset") && dom.contains("mean_acc"));

    // filter samples with the URL the filter form submits (GET): wrong math_500 answers
    let dom = b
        .visit(
            &format!("/runs/{ALPHA}/samples?dataset=math_500&subset=&correct=no&q=&per_page=20"),
            "samples-filtered",
        )
        .await;
    let n = (0..super::app_http::ALPHA_SAMPLES)
        .filter(|i| i % 2 == 1 && !swarm_tests::app_fixture::correct(*i))
        .count();
    assert!(dom.contains(&format!("data-matched=\"{n}\"")), "{dom}");
    assert!(
        dom.contains("<option value=\"math_500\" selected=\"\">"),
        "the form keeps the filter"
    );
    // the sample whose answer is a script: shown as text, never run
    let dom = b
        .visit(&format!("/runs/{ALPHA}/samples?q=pwned"), "samples-script")
        .await;
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;"),
        "{dom}"
    );
    assert!(
        !dom.contains("<script") && !dom.contains("<img"),
        "no element was made from model output"
    );
    assert!(
        !dom.contains("<title>pwned</title>"),
        "the script did not run"
    );

    // its own page, reached by the link in the list
    let lead = "<a class=\"sample\" href=\"";
    let href = dom
        .split_once(lead)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(h, _)| h.replace("&amp;", "&"))
        .expect("a link to the sample's page");
    let dom = b.visit(&href, "sample-script").await;
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned'&lt;/script&gt;")
            && dom.contains("<h2>Conversation</h2>"),
        "{dom}"
    );
    assert!(!dom.contains("<script") && !dom.contains("<title>pwned</title>"));

    // a comparison
    let dom = b
        .visit(&format!("/compare?run={ALPHA}&run={BETA}"), "compare")
        .await;
    assert!(dom.contains("Eval scores") && dom.contains("Score per dataset"));
    assert!(
        dom.contains(&format!("{ALPHA} / alpha-7b")) && dom.contains(&format!("{BETA} / beta-13b"))
    );
    // the two models' answers side by side
    let dom = b
        .visit(
            &format!("/compare/samples?a={ALPHA}&b={BETA}&show=all"),
            "pairs",
        )
        .await;
    assert!(
        dom.contains("Outcomes on the samples both answered") && dom.contains("data-listed=\"45\""),
        "{dom}"
    );
    assert!(!dom.contains("<script") && !dom.contains("<title>pwned</title>"));
    cancel.cancel();
    eprintln!("screenshots: {}", shots.display());
}
