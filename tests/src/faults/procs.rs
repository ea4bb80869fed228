//! The real binaries as child processes: started next to this executable, killed with SIGKILL,
//! paused with SIGSTOP, always reaped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A built binary of this workspace (`coordinator`, `agent`, `llm-sim`), beside this one.
pub fn bin(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("executable has no folder")?;
    let p = dir.join(name);
    anyhow::ensure!(
        p.exists(),
        "{} not found: build the workspace binaries first (cargo build --workspace --bins)",
        p.display()
    );
    Ok(p)
}

/// A child process, SIGKILLed and reaped on drop.
pub struct Proc {
    child: Child,
    /// What it is, for messages.
    pub name: String,
}

impl Proc {
    /// Starts `bin` with `args`; stdout and stderr are appended to `log`.
    pub fn start(bin_name: &str, args: &[String], log: &Path) -> anyhow::Result<Self> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        // relative paths in plans (outputs: out) land beside the scenario's log
        let cwd = log.parent().unwrap_or(Path::new("."));
        let child = Command::new(bin(bin_name)?)
            .args(args)
            .current_dir(cwd)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {bin_name}"))?;
        Ok(Self {
            child,
            name: bin_name.to_owned(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal by name (`STOP`, `CONT`).
    pub fn signal(&self, sig: &str) -> anyhow::Result<()> {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()?
            .success();
        anyhow::ensure!(ok, "kill -{sig} {} failed", self.pid());
        Ok(())
    }

    /// Waits up to `limit` for the exit status; None when it is still running.
    pub fn wait_for(&mut self, limit: Duration) -> anyhow::Result<Option<i32>> {
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status.code().unwrap_or(-1)));
            }
            if Instant::now() >= until {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits until something accepts connections on the loopback `port`.
pub fn wait_listening(port: u16, limit: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("nothing listens on 127.0.0.1:{port} after {limit:?}")
}

/// llm-sim as a process on a free port with `flags`; returns it and its base URL.
pub fn start_sim(flags: &[&str], log: &Path) -> anyhow::Result<(Proc, String)> {
    let port = free_port()?;
    let mut args = vec![
        "--host".to_owned(),
        "127.0.0.1".to_owned(),
        "--port".to_owned(),
        port.to_string(),
    ];
    args.extend(flags.iter().map(|s| s.to_string()));
    let p = Proc::start("llm-sim", &args, log)?;
    wait_listening(port, Duration::from_secs(10))?;
    Ok((p, format!("http://127.0.0.1:{port}")))
}

/// `coordinator run plan --quiet`, logging to `coordinator.log` beside the plan.
pub fn run_plan(plan: &Path) -> anyhow::Result<Proc> {
    let dir = plan.parent().unwrap_or(Path::new("."));
    Proc::start(
        "coordinator",
        &[
            "run".into(),
            plan.to_string_lossy().into_owned(),
            "--quiet".into(),
        ],
        &dir.join("coordinator.log"),
    )
}

/// An agent process dialling `http://127.0.0.1:port` as `id` with the token in `token`, logging
/// to `<id>.log` in `dir`.
pub fn start_agent(dir: &Path, port: u16, id: &str, token: &Path) -> anyhow::Result<Proc> {
    Proc::start(
        "agent",
        &[
            "--coordinator".into(),
            format!("http://127.0.0.1:{port}"),
            "--id".into(),
            id.to_owned(),
            "--label".into(),
            "region=local".into(),
            "--token-file".into(),
            token.to_string_lossy().into_owned(),
        ],
        &dir.join(format!("{id}.log")),
    )
}

/// Every file under `dir` (recursively) that `keep` accepts, sorted.
pub fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every `summary.json` under `dir`.
pub fn summaries(dir: &Path) -> Vec<PathBuf> {
    files_under(dir, |p| p.file_name().is_some_and(|n| n == "summary.json"))
}
