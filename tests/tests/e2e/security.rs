//! What a hostile endpoint or plan cannot make an agent do: follow a redirect to a host the plan
//! did not name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use swarm_common::metrics::ErrorClass;
use swarm_common::prompt::Prompt;
use swarm_common::shard::{ApiKind, Secret, TargetSpec};
use swarm_io::client::EndpointClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A loopback server answering every connection with `reply`; counts connections.
async fn canned(reply: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let reply = reply.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = sock.read(&mut buf).await;
                let _ = sock.write_all(&reply).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (port, hits)
}

fn target(port: u16) -> TargetSpec {
    TargetSpec {
        url: format!("http://127.0.0.1:{port}/v1/chat/completions"),
        api: ApiKind::Chat,
        model: "m".into(),
        api_key: Some(Secret("sk-redirect-secret".into())),
        headers: vec![],
        connect_timeout_s: 2.0,
        read_timeout_s: 2.0,
        total_timeout_s: 5.0,
        transport: Default::default(),
    }
}

async fn send(port: u16) -> swarm_common::metrics::RequestRecord {
    swarm_io::tls::install_crypto_provider();
    let client = EndpointClient::new(&target(port), None, 1).expect("client");
    client
        .send(
            Bytes::from_static(b"{\"model\":\"m\",\"messages\":[]}"),
            "r-1",
            &Prompt::text("hi"),
            &CancellationToken::new(),
        )
        .await
}

#[tokio::test]
async fn a_redirect_is_an_error_not_a_request_to_another_host() {
    let (elsewhere, elsewhere_hits) =
        canned(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_vec()).await;
    let redirect = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://127.0.0.1:{elsewhere}/v1/chat/completions\r\ncontent-length: 0\r\n\r\n"
    );
    let (port, hits) = canned(redirect.into_bytes()).await;
    let rec = send(port).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(rec.status, 307);
    assert_eq!(rec.error, Some(ErrorClass::Other), "{:?}", rec.error_detail);
    assert_eq!(
        elsewhere_hits.load(Ordering::SeqCst),
        0,
        "the redirect target was contacted"
    );
}

/// The coordinator binary beside this test's executable.
fn coordinator_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/debug");
    let p = dir.join("coordinator");
    assert!(
        p.exists(),
        "{} missing: build the workspace first (cargo build --workspace)",
        p.display()
    );
    p
}

/// Every file under `dir`, as bytes, with its path.
fn every_file(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read file");
                out.push((p, bytes));
            }
        }
    }
    out
}

/// Runs a child to completion without stalling the runtime's other tasks (the simulator).
trait OutputBlocking {
    fn output_blocking(&mut self, what: &str) -> std::process::Output;
}

impl OutputBlocking for std::process::Command {
    fn output_blocking(&mut self, what: &str) -> std::process::Output {
        tokio::task::block_in_place(|| self.output()).expect(what)
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_appear_in_no_artifact_log_or_error() {
    const KEY: &str = "sk-live-NEVER-PRINT-ME-4f9a2c";
    // credentials inside the URL: user information and a key in the query
    const URL_PASS: &str = "url-pass-NEVER-PRINT-ME-77";
    const URL_KEY: &str = "url-key-NEVER-PRINT-ME-91";
    let sim = swarm_tests::start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = format!(
        "http://bob:{URL_PASS}@{}/v1/chat/completions?api-key={URL_KEY}",
        sim.addr
    );

    // flags: a run where some requests fail, so error details are written too
    let perf = std::process::Command::new(coordinator_bin())
        .args([
            "perf",
            "--url",
            &url,
            "--model",
            "sim-model",
            "--api-key",
            KEY,
            "--parallel",
            "2",
            "--number",
            "6",
            "--stream",
            "--max-tokens",
            "8",
            "--dataset",
            "random",
            "--tokenizer-path",
            "cl100k_base",
            "--min-prompt-length",
            "8",
            "--max-prompt-length",
            "16",
            "--headers",
            "x-sim-fault=500",
            "--outputs-dir",
        ])
        .arg(&out)
        .args(["--name", "keyed"])
        .arg("--no-test-connection")
        .env("RUST_LOG", "debug")
        .output_blocking("coordinator perf runs");
    // every request fails (x-sim-fault=500): the run writes what it measured and exits 4
    assert_eq!(
        perf.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&perf.stderr)
    );

    // a plan whose target takes its key from the environment, and a bad plan that fails
    let plan = tmp.path().join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            "version: 1\nname: keyed-plan\nagents: {{local_agents: 2}}\ntargets:\n  - name: t\n    url: {url}\n    model: sim-model\n    api_key_env: SWARM_TEST_SECRET_KEY\nworkloads:\n  - name: w\n    perf:\n      target: t\n      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}}\n      max_tokens: 8\n      stages:\n        - {{parallel: 2, number: 4}}\noutputs: {{dir: {}}}\n",
            out.display()
        ),
    )
    .expect("write plan");
    let run = std::process::Command::new(coordinator_bin())
        .args(["run", "--quiet"])
        .arg(&plan)
        .env("SWARM_TEST_SECRET_KEY", KEY)
        .env("RUST_LOG", "debug")
        .output_blocking("coordinator run runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let validate = std::process::Command::new(coordinator_bin())
        .args([
            "perf",
            "--url",
            "not a url",
            "--api-key",
            KEY,
            "--number",
            "1",
        ])
        // a refused command may still leave a run.json saying why: it must not hold the key
        .arg("--outputs-dir")
        .arg(&out)
        .output_blocking("coordinator perf runs");
    assert!(!validate.status.success());

    let files = every_file(&out);
    assert!(files.len() >= 10, "only {} files written", files.len());
    assert!(
        files
            .iter()
            .any(|(p, _)| p.extension().is_some_and(|x| x == "sqlite")),
        "the request records were written"
    );
    for secret in [KEY, URL_PASS, URL_KEY] {
        for (path, bytes) in &files {
            assert!(
                !contains(bytes, secret.as_bytes()),
                "{} holds the secret {secret}",
                path.display()
            );
        }
        for (what, o) in [("perf", &perf), ("run", &run), ("bad flags", &validate)] {
            assert!(
                !contains(&o.stdout, secret.as_bytes()),
                "{what} stdout holds the secret {secret}"
            );
            assert!(
                !contains(&o.stderr, secret.as_bytes()),
                "{what} stderr holds the secret {secret}"
            );
        }
    }
    sim.shutdown().await;
}

/// A run cannot make an agent execute model-written code without isolation unless the agent's
/// own command line allowed it: `sandbox_config.allow_unisolated` from the run is refused, the
/// refusal reaches the user, and the command fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cannot_turn_off_an_agents_sandbox() {
    let sim = swarm_tests::start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dargs = serde_json::json!({
        "humaneval": {
            "local_path": swarm_tests::eval_fixture("humaneval"),
            "sandbox_config": {"allow_unisolated": true},
        }
    })
    .to_string();
    let url = format!("{}/v1/chat/completions", sim.url());
    let out = std::process::Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(tmp.path())
        .args(["eval", "--model", "sim-model", "--api-url", &url])
        .args([
            "--datasets",
            "humaneval",
            "--dataset-args",
            &dargs,
            "--limit",
            "2",
        ])
        .args([
            "--generation-config",
            r#"{"max_tokens": 8}"#,
            "--outputs-dir",
            "out",
        ])
        .output_blocking("coordinator eval runs");
    sim.shutdown().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("does not allow") && err.contains("--allow-unisolated-code"),
        "the refusal says why and what to do: {err}"
    );
}

/// A plan that names no agent credential still gets one: the coordinator makes a token for the
/// run (written 0600 beside its results, its path printed), refuses an agent without it, and
/// runs with the agent that has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_without_a_configured_token_still_wants_one() {
    use std::os::unix::fs::PermissionsExt;
    use std::time::{Duration, Instant};
    let sim = swarm_tests::start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = swarm_tests::free_port();
    std::fs::write(tmp.path().join("p.txt"), "hello\n").expect("dataset");
    std::fs::write(
        tmp.path().join("plan.yaml"),
        format!(
            "version: 1\nname: open\nagents: {{min_agents: 1, wait_s: 30}}\ncoordinator: {{listen: '127.0.0.1:{port}'}}\ntargets:\n  - {{name: t, url: '{}/v1/chat/completions', model: sim-model}}\nworkloads:\n  - name: w\n    perf:\n      target: t\n      dataset: {{kind: line_by_line, path: p.txt}}\n      max_tokens: 2\n      stages:\n        - {{parallel: 1, number: 2}}\n",
            sim.url()
        ),
    )
    .expect("plan");
    let mut coord = std::process::Command::new(coordinator_bin())
        .current_dir(tmp.path())
        .args(["run", "--quiet", "--outputs-dir", "out", "plan.yaml"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("coordinator starts");
    // the token file appears in the run folder
    let t0 = Instant::now();
    let token = loop {
        let found = std::fs::read_dir(tmp.path().join("out"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path().join("agent-token"))
            .filter(|p| p.is_file());
        if let Some(p) = found {
            break p;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no agent-token written"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mode = std::fs::metadata(&token)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "only its owner reads the token");
    let agent = |args: &[&str]| {
        std::process::Command::new(swarm_tests::workspace_bin("agent"))
            .args(["--coordinator", &format!("http://127.0.0.1:{port}")])
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("agent starts")
    };
    // an agent without the token is refused and the run does not start with it
    let mut stranger = agent(&["--id", "stranger"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(coord.try_wait().expect("status").is_none(), "still waiting");
    let _ = stranger.kill();
    let _ = stranger.wait();
    let mut member = agent(&[
        "--id",
        "member",
        "--token-file",
        token.to_str().expect("utf8"),
    ]);
    let status = loop {
        if let Some(s) = coord.try_wait().expect("status") {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "the run finishes");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = member.kill();
    let _ = member.wait();
    sim.shutdown().await;
    let mut err = String::new();
    if let Some(mut e) = coord.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "{err}");
    assert!(err.contains("agents join with --token-file"), "{err}");
    assert!(
        err.contains("bearer token"),
        "the stranger's refusal is logged: {err}"
    );
}

/// `coordinator validate` of `plan` with `env` set (and `args`), as a user would.
fn validate(
    dir: &std::path::Path,
    plan: &str,
    env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    std::fs::write(dir.join("plan.yaml"), plan).expect("plan");
    std::process::Command::new(coordinator_bin())
        .current_dir(dir)
        .arg("validate")
        .args(args)
        .arg("plan.yaml")
        .envs(env.iter().copied())
        .output()
        .expect("coordinator runs")
}

const ENV_PLAN: &str = "version: 1
name: envy
# the target comes from ${NOT_SET_ANYWHERE} (a comment: not expanded)
targets:
  - name: t
    url: ${ENDPOINT_URL}
    model: m
    api_key_env: SOME_API_KEY
workloads:
  - name: w
    perf:
      target: t
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 4, max_prompt_length: 8}
      stages:
        - {parallel: 1, number: 1}
";

#[test]
fn a_plans_environment_cannot_change_its_structure_or_reach_past_allow_env() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = ("ENDPOINT_URL", "http://127.0.0.1:9/v1/chat/completions");
    let ok = validate(tmp.path(), ENV_PLAN, &[url], &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    // a value that would add a key (here: turn off the plaintext guard) is refused, by line
    let injected = (
        "ENDPOINT_URL",
        "http://127.0.0.1:9/v1/chat/completions\n    insecure: true",
    );
    let bad = validate(tmp.path(), ENV_PLAN, &[injected], &[]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("line 6") && err.contains("ENDPOINT_URL"),
        "{err}"
    );
    assert!(err.contains("structure"), "{err}");
    assert_eq!(err.matches("ENDPOINT_URL").count(), 1, "said once: {err}");

    // --allow-env: only what it names, for references and for api_key_env alike
    let allowed = validate(
        tmp.path(),
        ENV_PLAN,
        &[url],
        &["--allow-env", "ENDPOINT_*", "--allow-env", "SOME_API_KEY"],
    );
    assert!(
        allowed.status.success(),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let refused = validate(
        tmp.path(),
        ENV_PLAN,
        &[url],
        &["--allow-env", "SOME_API_KEY"],
    );
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("ENDPOINT_URL may not be read"), "{err}");
    let key = validate(
        tmp.path(),
        ENV_PLAN,
        &[url],
        &["--allow-env", "ENDPOINT_URL"],
    );
    assert_eq!(key.status.code(), Some(2));
    let err = String::from_utf8_lossy(&key.stderr);
    assert!(
        err.contains("api_key_env") && err.contains("SOME_API_KEY"),
        "{err}"
    );
}
