//! Shared helpers of the end-to-end tests: an in-process simulator, target specs for it, and the
//! eval fixtures.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use llm_sim::{SimConfig, SimHandle};
use swarm_common::shard::{ApiKind, TargetSpec};
use tokio_util::sync::CancellationToken;

pub mod app_fixture;
pub mod faults;
pub mod fuzzing;
pub mod keyed_eval;
pub mod run_dirs;
pub mod schemas;

/// Starts llm-sim on a free loopback port.
pub async fn start_sim(config: SimConfig) -> SimHandle {
    swarm_io::tls::install_crypto_provider();
    let addr = SocketAddr::from(([127, 0, 0, 1], 0));
    llm_sim::start(config, addr, CancellationToken::new())
        .await
        .expect("sim starts on loopback")
}

/// A chat target for a running simulator with short timeouts.
pub fn sim_target(sim: &SimHandle, api: ApiKind) -> TargetSpec {
    let path = match api {
        ApiKind::Chat => "/v1/chat/completions",
        ApiKind::Completions => "/v1/completions",
        ApiKind::Embedding => "/v1/embeddings",
        ApiKind::Rerank => "/v1/rerank",
        ApiKind::Responses => "/v1/responses",
    };
    TargetSpec {
        url: format!("{}{path}", sim.url()),
        api,
        model: "sim-model".into(),
        api_key: None,
        headers: Vec::new(),
        connect_timeout_s: 5.0,
        read_timeout_s: 5.0,
        total_timeout_s: 30.0,
        transport: Default::default(),
    }
}

pub mod bench;

/// A file of the eval fixtures: `eval/tests/fixtures/eval/<rel>`.
pub fn eval_fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../eval/tests/fixtures/eval")
        .join(rel)
}

/// A workspace binary (`coordinator`, `agent`, `llm-sim`) beside the running test executable;
/// panics with what to do when it was not built.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} missing: build the workspace first (cargo build --workspace)",
        p.display()
    );
    p
}

/// A loopback port nothing listens on (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The shared data folder beside the repository (real benchmark files that may not be copied
/// into it): `$SWARM_SHARED_DATA`, else `<repository>/../shared/data`.
pub fn shared_data() -> PathBuf {
    match std::env::var_os("SWARM_SHARED_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// Asserts that `run` is the folder of a run that failed before measuring anything: its
/// `run.json` says `failed` with a failure containing `why`, it holds no perf stage, and its
/// report says FAILED before any number.
pub fn assert_failed_unmeasured(run: &Path, why: &str) {
    use swarm_coordinator::run_store::record::{RunStatus, read};
    let r = read(run).expect("readable").expect("run.json");
    assert_eq!(r.status, RunStatus::Failed, "{r:?}");
    assert!(r.failures.iter().any(|f| f.contains(why)), "{r:?}");
    assert!(r.workloads.values().all(Vec::is_empty), "{r:?}");
    let stages = std::fs::read_dir(run.join("perf"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        stages, 0,
        "nothing was measured, so no stage folder looks like a result"
    );
    let html = std::fs::read_to_string(run.join("report.html")).expect("report.html");
    let failed = html.find("FAILED").expect("the report says FAILED");
    assert!(html.contains(why), "the report says why");
    assert!(
        html.find("<table").is_none_or(|t| t > failed),
        "FAILED comes before any table"
    );
}

/// Records that a test did not run what it is about: printed, and appended to
/// `$SWARM_SKIP_LOG` (scripts/test.sh prints the list at the end). When `ci_provides` (CI
/// installs or runs it: chromium, Docker) and `CI=true`, a skip is a failure instead.
pub fn skipped(test: &str, why: &str, ci_provides: bool) {
    let line = format!("skipped: {test}: {why}");
    if ci_provides && std::env::var("CI").as_deref() == Ok("true") {
        panic!("{line} — CI=true and CI provides this, so it must run");
    }
    eprintln!("{line}");
    if let Some(log) = std::env::var_os("SWARM_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// The one run folder under `outputs` (a test that ran one command into an empty folder).
pub fn only_run(outputs: &Path) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(outputs)
        .unwrap_or_else(|e| panic!("{}: {e}", outputs.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(
        runs.len(),
        1,
        "one run folder in {}: {runs:?}",
        outputs.display()
    );
    runs.into_iter().next().expect("one")
}

/// `run`'s `run.json`, checked against its published schema and read back as its type.
pub fn run_record(run: &Path) -> swarm_coordinator::run_store::record::RunRecord {
    let raw = schemas::read_json(&run.join("run.json"));
    let bad = schemas::violations("run.schema.json", &raw);
    assert!(bad.is_empty(), "{bad:?}");
    swarm_coordinator::run_store::record::read(run)
        .expect("a readable run.json")
        .expect("a run.json")
}
