//! A hostile endpoint cannot exhaust an agent: an event-stream line that never ends and a body
//! that never ends are cut off at the target's bounds (1 MiB a line, 16 MiB a body by default),
//! counted as `too_large`, and the process stays small.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::schemas::read_json;

/// Serves every connection with `head` then up to 64 MiB of `x`, until the client hangs up.
fn endless(head: &'static str) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().take(64) {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 16384];
                let _ = s.read(&mut buf);
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                for _ in 0..1024 {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn run(port: u16, stream: bool) -> (Option<i32>, u64, serde_json::Value) {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("p.txt"), "hello\n").expect("dataset");
    let mut cmd = Command::new(swarm_tests::workspace_bin("coordinator"));
    cmd.current_dir(tmp.path())
        .args([
            "perf",
            "--dataset",
            "line_by_line",
            "--dataset-path",
            "p.txt",
        ])
        .args([
            "--url",
            &format!("http://127.0.0.1:{port}/v1/chat/completions"),
        ])
        .args(["--parallel", "4", "--number", "8", "--no-test-connection"])
        .args([
            "--outputs-dir",
            "out",
            "--read-timeout",
            "30",
            "--total-timeout",
            "60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if stream {
        cmd.arg("--stream");
    } else {
        cmd.arg("--no-stream");
    }
    let mut child = cmd.spawn().expect("starts");
    let t0 = Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(p) = peak_rss(child.id()) {
            peak = peak.max(p);
        }
        if let Some(s) = child.try_wait().expect("status") {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "cut off in time");
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = std::fs::read_dir(tmp.path().join("out"))
        .expect("out")
        .next()
        .expect("run")
        .expect("entry")
        .path();
    let summary = read_json(&run.join("perf/perf/parallel_4_number_8/summary.json"));
    (status.code(), peak, summary)
}

#[test]
fn an_endless_event_stream_line_is_cut_off_at_the_line_bound() {
    let port = endless("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: ");
    let (code, peak, summary) = run(port, true);
    assert_eq!(summary["errors"]["too_large"], 8, "{summary}");
    assert_eq!(code, Some(4), "no successful request");
    assert!(peak < 256 << 20, "peak RSS {peak} bytes");
}

#[test]
fn an_endless_body_is_cut_off_at_the_body_bound() {
    let port = endless(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\n\r\n{\"x\":\"",
    );
    let (code, peak, summary) = run(port, false);
    assert_eq!(summary["errors"]["too_large"], 8, "{summary}");
    assert_eq!(code, Some(4), "no successful request");
    assert!(peak < 256 << 20, "peak RSS {peak} bytes");
}
