//! A hostile endpoint: an event-stream line that never ends, or a body that never ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use crate::faults::Row;
use crate::faults::procs::{free_port, run_plan, start_agent, summaries, wait_listening};
use crate::faults::summary::Counts;

use super::fresh;

/// Requests of a hostile-endpoint stage; every fourth measured request gets the hostile answer.
const ENDPOINT_N: u64 = 40;
/// The peak RSS an agent may reach while cut-off answers stream at it.
const RSS_BOUND: u64 = 256 << 20;

#[derive(Debug, Clone, Copy)]
pub(super) enum Endless {
    /// `data: xxxx…` with no end of line, streaming.
    Line,
    /// A non-streaming body announced as 100 GB.
    Body,
}

impl Endless {
    pub(super) fn slug(self) -> &'static str {
        match self {
            Endless::Line => "sse-line",
            Endless::Body => "body",
        }
    }

    pub(super) fn injected(self) -> &'static str {
        match self {
            Endless::Line => {
                "endpoint: every 4th answer an event-stream line that never ends (64 MiB of `data: xxx…`, no newline)"
            }
            Endless::Body => {
                "endpoint: every 4th answer a non-streaming body that never ends (content-length 100 GB, 64 MiB sent)"
            }
        }
    }

    fn head(self) -> &'static str {
        match self {
            Endless::Line => {
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: "
            }
            Endless::Body => {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\nconnection: close\r\n\r\n{\"x\":\""
            }
        }
    }

    /// A complete, small answer of the same kind.
    fn benign(self) -> String {
        let (ctype, body) = match self {
            Endless::Line => (
                "text/event-stream",
                concat!(
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
                    "data: [DONE]\n\n"
                )
                .to_owned(),
            ),
            Endless::Body => (
                "application/json",
                "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}".to_owned(),
            ),
        };
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}

/// The hostile server: one thread per connection, blocking IO.
struct Server {
    port: u16,
    hostile: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(kind: Endless) -> anyhow::Result<Self> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let hostile = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (hostile.clone(), stop.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(s) = s else { continue };
                let h = h.clone();
                std::thread::spawn(move || serve(s, kind, &h));
            }
        });
        Ok(Self {
            port,
            hostile,
            stop,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // wake the accept loop so it sees the flag
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads one request and answers it: the endless answer for measured requests whose index
/// (`x-request-id: <shard>-<index>`) is 3 mod 4, a complete one otherwise.
fn serve(mut s: TcpStream, kind: Endless, hostile: &AtomicU64) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        req.extend_from_slice(&buf[..n]);
        if let Some(p) = find(&req, b"\r\n\r\n") {
            break p + 4;
        }
        if req.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).into_owned();
    let body_len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while req.len() < head_end + body_len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let is_hostile = header(&head, "x-request-id")
        .and_then(|id| id.rsplit('-').next())
        .and_then(|i| i.parse::<u64>().ok())
        .is_some_and(|i| i % 4 == 3);
    if !is_hostile {
        let _ = s.write_all(kind.benign().as_bytes());
        return;
    }
    hostile.fetch_add(1, Ordering::Relaxed);
    if s.write_all(kind.head().as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..1024 {
        if s.write_all(&chunk).is_err() {
            return;
        }
    }
}

/// Peak resident set (VmHWM) of `pid`, bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / f64::from(1 << 20))
}

pub(super) fn row(kind: Endless, dir: &Path) -> Row {
    let expected = format!(
        "all {ENDPOINT_N} requests counted once: each endless answer as too_large (cut at the 1 MiB line / 16 MiB body bound), the rest ok, no other class; agent peak RSS < {}",
        mib(RSS_BOUND)
    );
    match endpoint_one(kind, dir) {
        Ok(o) => {
            let c = &o.counts;
            let too_large = c.errors.get("too_large").copied().unwrap_or(0);
            let only = c.errors.keys().all(|k| k == "too_large");
            let whole = c.total == ENDPOINT_N && c.success + c.failed == ENDPOINT_N;
            let pass = whole
                && only
                && o.hostile > 0
                && too_large == o.hostile
                && c.success == ENDPOINT_N - o.hostile
                && o.peak > 0
                && o.peak < RSS_BOUND
                && o.code == Some(0);
            Row {
                group: "hostile",
                injected: kind.injected().to_owned(),
                expected,
                observed: format!(
                    "exit {:?}; {}; endless answers sent {}; agent peak RSS {}",
                    o.code,
                    c.describe(),
                    o.hostile,
                    mib(o.peak)
                ),
                lost: if whole {
                    "nothing".to_owned()
                } else {
                    format!("{} requests", ENDPOINT_N.saturating_sub(c.total))
                },
                agent_loss: None,
                pass,
            }
        }
        Err(e) => Row::broken("hostile", kind.injected(), &expected, &e),
    }
}

struct EndpointOutcome {
    counts: Counts,
    hostile: u64,
    peak: u64,
    code: Option<i32>,
}

fn endpoint_one(kind: Endless, dir: &Path) -> anyhow::Result<EndpointOutcome> {
    fresh(dir)?;
    let server = Server::start(kind)?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-endpoint
agents: {{min_agents: 1, wait_s: 30}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: hostile
    url: http://127.0.0.1:{}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 30, total_s: 60}}
workloads:
  - name: load
    perf:
      target: hostile
      stream: {}
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 32}}
      max_tokens: 16
      stages:
        - {{parallel: 4, number: {ENDPOINT_N}}}
outputs: {{dir: out}}
"#,
            server.port,
            matches!(kind, Endless::Line)
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let agent = start_agent(dir, port, "a1", &dir.join("token"))?;
    let pid = agent.pid();
    let mut peak = 0;
    let until = std::time::Instant::now() + Duration::from_secs(180);
    let code = loop {
        if let Some(p) = peak_rss(pid) {
            peak = peak.max(p);
        }
        if let Some(code) = coord.wait_for(Duration::from_millis(20))? {
            break Some(code);
        }
        if std::time::Instant::now() >= until {
            break None;
        }
    };
    drop(agent);
    anyhow::ensure!(code.is_some(), "the coordinator did not finish");
    let files = summaries(&dir.join("out"));
    let summary = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    Ok(EndpointOutcome {
        counts: Counts::read(summary)?,
        hostile: server.hostile.load(Ordering::Relaxed),
        peak,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_whatever_their_case() {
        let head = "POST / HTTP/1.1\r\nX-Request-Id: load/p/0-7\r\ncontent-length: 3\r\n\r\n";
        assert_eq!(header(head, "x-request-id"), Some("load/p/0-7"));
        assert_eq!(header(head, "content-length"), Some("3"));
    }
}
