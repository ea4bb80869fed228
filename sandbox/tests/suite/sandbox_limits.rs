//! The code sandbox against hostile programs: an infinite loop, a fork bomb, memory bombs, a
//! connection to a local listener and a write outside the work folder each end as a failed run
//! (never a hang); a clean program passes with its output and input captured.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::Duration;

use swarm_eval::exec::{CodeRunner, ProgramRun, RunOutcome, RunStatus, SandboxSettings};
use swarm_sandbox::Sandbox;
use swarm_sandbox::isolation::Isolation;

fn sandbox() -> Sandbox {
    Sandbox::new(SandboxSettings::default()).expect("a sandbox (namespaces are available here)")
}

fn run(program: &str, stdin: &str, timeout_s: u64) -> RunOutcome {
    sandbox().run(&ProgramRun {
        program: program.to_owned(),
        stdin: stdin.to_owned(),
        timeout: Duration::from_secs(timeout_s),
    })
}

/// Sandboxed processes (real uid in the sandbox range, 0x6000_0000..) whose run has ended:
/// their work folder is gone (other tests' runs may be alive meanwhile).
fn survivors() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            let uid = std::fs::read_to_string(e.path().join("status"))
                .ok()
                .and_then(|status| {
                    status
                        .lines()
                        .find_map(|l| l.strip_prefix("Uid:"))
                        .and_then(|l| l.split_whitespace().next()?.parse::<u32>().ok())
                });
            let orphaned = std::fs::read_link(e.path().join("cwd"))
                .map(|p| p.to_string_lossy().ends_with("(deleted)"))
                .unwrap_or(false);
            uid.is_some_and(|u| u >= 0x6000_0000) && orphaned
        })
        .count()
}

#[test]
fn a_clean_program_passes_with_its_output() {
    let out = run(
        "import sys\nprint('hello', 6 * 7)\nsys.stderr.write('note')\n",
        "",
        10,
    );
    assert_eq!(out.status, RunStatus::Exited(0), "{out:?}");
    assert!(out.ok());
    assert_eq!(out.stdout, "hello 42\n");
    assert_eq!(out.stderr, "note");
}

#[test]
fn standard_input_reaches_the_program() {
    let out = run(
        "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n",
        "1 2\n3\n",
        10,
    );
    assert!(out.ok(), "{out:?}");
    assert_eq!(out.stdout.trim(), "6");
}

#[test]
fn a_failing_program_reports_its_exit_code() {
    let out = run("raise SystemExit(3)\n", "", 10);
    assert_eq!(out.status, RunStatus::Exited(3));
    let out = run("1 / 0\n", "", 10);
    assert_eq!(out.status, RunStatus::Exited(1));
    assert!(out.stderr.contains("ZeroDivisionError"), "{}", out.stderr);
}

#[test]
fn an_infinite_loop_is_killed_at_the_wall_clock_limit() {
    let out = run("while True:\n    pass\n", "", 1);
    assert!(!out.ok());
    // the CPU limit (timeout + 1 s) may fire first on a busy machine
    assert!(
        matches!(out.status, RunStatus::TimedOut | RunStatus::Signaled(_)),
        "{out:?}"
    );
}

#[test]
fn a_sleeping_program_is_killed_at_the_wall_clock_limit() {
    let out = run(
        "import time\nprint('start', flush=True)\ntime.sleep(60)\n",
        "",
        1,
    );
    assert_eq!(out.status, RunStatus::TimedOut, "{out:?}");
    assert_eq!(out.stdout, "start\n");
}

#[test]
fn a_fork_bomb_is_contained_and_cleaned_up() {
    let sandbox = sandbox();
    let bomb =
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n";
    let out = sandbox.run(&ProgramRun {
        program: bomb.into(),
        stdin: String::new(),
        timeout: Duration::from_secs(2),
    });
    assert!(!out.ok(), "{out:?}");
    if sandbox.isolation() == Isolation::Root {
        assert_eq!(survivors(), 0, "processes of the bomb survived");
    }
    // the machine still runs programs
    assert!(run("print(1)\n", "", 10).ok());
}

#[test]
fn a_program_that_leaves_its_session_is_still_killed() {
    let sandbox = sandbox();
    let program = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')\n";
    let out = sandbox.run(&ProgramRun {
        program: program.into(),
        stdin: String::new(),
        timeout: Duration::from_secs(5),
    });
    assert!(out.ok(), "{out:?}");
    if sandbox.isolation() == Isolation::Root {
        assert_eq!(survivors(), 0, "the escaped child survived");
    }
}

#[test]
fn memory_bombs_fail() {
    let out = run("x = bytearray(8 << 30)\n", "", 10);
    assert_eq!(out.status, RunStatus::Exited(1), "{out:?}");
    assert!(out.stderr.contains("MemoryError"), "{}", out.stderr);
    let out = run(
        "chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 24))\n",
        "",
        10,
    );
    assert!(!out.ok(), "{out:?}");
}

#[test]
fn the_network_is_unreachable_even_on_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let program = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\nprint('connected')\n"
    );
    let out = run(&program, "", 10);
    assert!(!out.ok(), "{out:?}");
    assert!(!out.stdout.contains("connected"));
    match listener.accept() {
        Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
        Ok((_, peer)) => panic!("the sandbox reached the listener from {peer}"),
    }
}

#[test]
fn writes_outside_the_work_folder_fail_and_inside_succeed() {
    let outside = std::env::temp_dir().join(format!("swarm-escape-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let target = outside.join("pwned.txt");
    let program = format!(
        "open({:?}, 'w').write('x')\nprint('wrote')\n",
        target.display().to_string()
    );
    let out = run(&program, "", 10);
    assert!(!out.ok(), "{out:?}");
    assert!(!target.exists(), "the sandbox wrote {}", target.display());
    std::fs::remove_dir_all(&outside).unwrap();

    let inside = run(
        "open('scratch.txt', 'w').write('kept')\nprint(open('scratch.txt').read())\n",
        "",
        10,
    );
    assert!(inside.ok(), "{inside:?}");
    assert_eq!(inside.stdout.trim(), "kept");
}

#[test]
fn output_is_cut_at_the_limit() {
    let settings = SandboxSettings {
        output_limit: 1000,
        ..SandboxSettings::default()
    };
    let out = Sandbox::new(settings).unwrap().run(&ProgramRun {
        program: "print('y' * 100000)\n".into(),
        stdin: String::new(),
        timeout: Duration::from_secs(10),
    });
    assert!(out.ok(), "{out:?}");
    assert_eq!(out.stdout.len(), 1000);
}

#[test]
fn a_missing_interpreter_is_a_clear_error() {
    let settings = SandboxSettings {
        python: Some("/nonexistent/python3".into()),
        ..SandboxSettings::default()
    };
    let err = Sandbox::new(settings).unwrap_err().to_string();
    assert!(err.contains("/nonexistent/python3"), "{err}");
}
