//! llm-sim as a separate process, so the client's CPU and memory are measured alone.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running llm-sim child process; killed on drop.
pub struct SimProcess {
    child: Child,
    /// Base URL.
    pub url: String,
}

impl SimProcess {
    /// Starts `llm-sim` (next to this binary) with extra flags on a free loopback port.
    pub fn start(flags: &[&str]) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let sim = exe.with_file_name("llm-sim");
        anyhow::ensure!(
            sim.exists(),
            "{} not found: build it with cargo build --release -p llm-sim",
            sim.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(&sim)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Self { child, url });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        anyhow::bail!("llm-sim did not start listening on port {port}")
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
