//! The real binaries as separate processes: a coordinator waiting for two agents over mutual
//! TLS with a shared token, agents in two regions, a per-region report; an agent with a wrong
//! token, no token, a certificate from another CA, or plaintext to the TLS port is refused and
//! the run does not start with it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;

fn bin(name: &str) -> PathBuf {
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

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let cert = p.self_signed(&key).expect("self-signed");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

fn leaf(
    ca: &Ca,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    dir: &Path,
    stem: &str,
) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name.push(DnType::CommonName, stem);
    p.extended_key_usages = vec![usage];
    let cert = p.signed_by(&key, &ca.issuer).expect("signed");
    let (c, k) = (
        dir.join(format!("{stem}.pem")),
        dir.join(format!("{stem}.key")),
    );
    std::fs::write(&c, cert.pem()).expect("write cert");
    std::fs::write(&k, key.serialize_pem()).expect("write key");
    (c, k)
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent(
    dir: &Path,
    port: u16,
    id: &str,
    region: &str,
    token: &Path,
    cert: &(PathBuf, PathBuf),
) -> Proc {
    let child = Command::new(bin("agent"))
        .args([
            "--coordinator",
            &format!("https://127.0.0.1:{port}"),
            "--id",
            id,
        ])
        .args([
            "--label",
            &format!("region={region}"),
            "--tls-domain",
            "localhost",
        ])
        .arg("--token-file")
        .arg(token)
        .arg("--tls-ca")
        .arg(dir.join("ca.pem"))
        .arg("--tls-cert")
        .arg(&cert.0)
        .arg("--tls-key")
        .arg(&cert.1)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent starts");
    Proc(child)
}

/// An agent that skips part of the authentication: no token (valid certificate), or plaintext
/// gRPC to the TLS port.
fn half_agent(dir: &Path, port: u16, id: &str, cert: &(PathBuf, PathBuf), plaintext: bool) -> Proc {
    let mut cmd = Command::new(bin("agent"));
    if plaintext {
        cmd.args(["--coordinator", &format!("http://127.0.0.1:{port}")])
            .arg("--token-file")
            .arg(dir.join("token"));
    } else {
        cmd.args(["--coordinator", &format!("https://127.0.0.1:{port}")])
            .args(["--tls-domain", "localhost"])
            .arg("--tls-ca")
            .arg(dir.join("ca.pem"))
            .arg("--tls-cert")
            .arg(&cert.0)
            .arg("--tls-key")
            .arg(&cert.1);
    }
    let child = cmd
        .args(["--id", id, "--label", "region=eu-west"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("agent starts");
    Proc(child)
}

fn wait_exit(p: &mut Proc, limit: Duration) -> Option<std::process::ExitStatus> {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if let Ok(Some(s)) = p.0.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_over_mtls_and_intruders_are_refused() {
    let sim = start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let good = ca("swarmbench test ca");
    let other = ca("someone else");
    std::fs::write(dir.join("ca.pem"), &good.pem).expect("ca");
    leaf(
        &good,
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        dir,
        "server",
    );
    let eu = leaf(
        &good,
        &["agent-eu"],
        ExtendedKeyUsagePurpose::ClientAuth,
        dir,
        "agent-eu",
    );
    let us = leaf(
        &good,
        &["agent-us"],
        ExtendedKeyUsagePurpose::ClientAuth,
        dir,
        "agent-us",
    );
    let rogue = leaf(
        &other,
        &["rogue"],
        ExtendedKeyUsagePurpose::ClientAuth,
        dir,
        "rogue",
    );
    std::fs::write(dir.join("token"), "let-me-in\n").expect("token");
    std::fs::write(dir.join("wrong-token"), "guess\n").expect("token");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let plan = format!(
        "version: 1
name: regions
agents: {{min_agents: 2, wait_s: 30, heartbeat_timeout_s: 5}}
coordinator:
  listen: 127.0.0.1:{port}
  token_file: token
  tls: {{cert: server.pem, key: server.key, client_ca: ca.pem}}
targets:
  - {{name: sim, url: '{}/v1/chat/completions', model: sim-model}}
workloads:
  - name: w
    placement: {{per_label: region}}
    perf:
      target: sim
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}}
      max_tokens: 4
      stages:
        - {{parallel: 2, number: 20}}
",
        sim.url()
    );
    std::fs::write(dir.join("plan.yaml"), plan).expect("plan");
    let log = std::fs::File::create(dir.join("coordinator.log")).expect("log");
    let mut coord = Proc(
        Command::new(bin("coordinator"))
            .args(["run", "--quiet", "--outputs-dir"])
            .arg(dir.join("out"))
            .arg(dir.join("plan.yaml"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("coordinator starts"),
    );
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "coordinator never listened"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // intruders first: a wrong token (valid certificate), a certificate from another CA, no
    // token at all (valid certificate), and plaintext gRPC to the TLS port (right token)
    let _liar = agent(dir, port, "liar", "eu-west", &dir.join("wrong-token"), &eu);
    let _rogue = agent(dir, port, "rogue", "eu-west", &dir.join("token"), &rogue);
    let _tokenless = half_agent(dir, port, "tokenless", &eu, false);
    let _plain = half_agent(dir, port, "plain", &eu, true);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        coord.0.try_wait().expect("status").is_none(),
        "the run must not start with refused agents"
    );
    let _eu = agent(dir, port, "eu-1", "eu-west", &dir.join("token"), &eu);
    let _us = agent(dir, port, "us-1", "us-east", &dir.join("token"), &us);
    let status = wait_exit(&mut coord, Duration::from_secs(60)).expect("coordinator finishes");
    let log = std::fs::read_to_string(dir.join("coordinator.log")).unwrap_or_default();
    assert!(status.success(), "coordinator failed: {log}");
    assert!(
        log.contains("wrong bearer token"),
        "refusal of the wrong token is logged: {log}"
    );
    assert!(
        log.contains("no bearer token") || log.contains("missing bearer token"),
        "refusal of the missing token is logged: {log}"
    );
    sim.shutdown().await;

    let out = dir.join("out");
    let run = std::fs::read_dir(&out)
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let stage = run.join("perf/w/parallel_2_number_20");
    let summary = read_json(&stage.join("benchmark_summary.json"));
    assert_eq!(
        summary["Total Requests"], 40,
        "each region runs the whole stage"
    );
    let breakdown = read_json(&stage.join("breakdown.json"));
    let labels: Vec<&String> = breakdown["labels"]
        .as_object()
        .expect("labels")
        .keys()
        .collect();
    assert_eq!(labels, vec!["region=eu-west", "region=us-east"]);
    for l in ["region=eu-west", "region=us-east"] {
        assert_eq!(
            breakdown["labels"][l]["evalscope"]["Total Requests"], 20,
            "{l}"
        );
    }
    let agents: Vec<&String> = breakdown["agents"]
        .as_object()
        .expect("agents")
        .keys()
        .collect();
    assert_eq!(
        agents,
        vec!["eu-1", "us-1"],
        "only the authenticated agents took part"
    );
}
