//! Starting one program, feeding its input, capturing its output (up to a limit), and killing
//! its whole process group when it finishes or its wall-clock time runs out.

use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use swarm_eval::exec::{RunOutcome, RunStatus};

use super::isolation::ChildSetup;
use super::limits::Limits;
use super::subids::{MapRequest, MapThread, Mapped};

/// One program to start.
pub struct Launch<'a> {
    /// The interpreter.
    pub python: &'a Path,
    /// The script, relative to `workdir`.
    pub script: &'a str,
    /// The working folder.
    pub workdir: &'a Path,
    /// Standard input.
    pub stdin: &'a [u8],
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Resource limits.
    pub limits: Limits,
    /// Isolation, entered in the child.
    pub setup: ChildSetup,
    /// Bytes kept per output stream.
    pub output_limit: usize,
    /// Root isolation: every process of this user id is killed after the program ends.
    pub sweep_uid: Option<libc::uid_t>,
    /// Subordinate ids: the maps the agent's helpers write for the child (whose `setup` holds
    /// this request's child ends).
    pub map: Option<MapRequest>,
}

/// How long output readers may take after the program is killed (a process that left the
/// group may still hold a pipe open; its reader is then abandoned).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// Runs the program to its end (or its kill) and returns what happened.
pub fn run(launch: Launch<'_>) -> RunOutcome {
    let started = Instant::now();
    let failed = |message: String| RunOutcome {
        status: RunStatus::Failed(message),
        stdout: String::new(),
        stderr: String::new(),
        wall: started.elapsed(),
    };
    let mut cmd = Command::new(launch.python);
    cmd.arg("-B")
        .arg("-s")
        .arg(launch.script)
        .current_dir(launch.workdir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", launch.workdir)
        .env("TMPDIR", launch.workdir)
        .env("LANG", "C.UTF-8")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (limits, setup) = (launch.limits, launch.setup);
    // SAFETY: the closure runs between fork and exec and only makes raw system calls on data
    // prepared before the fork (setsid, unshare, fork, mount, setresuid, setrlimit, seccomp).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            // the namespaces, then the limits (see ChildSetup::enter)
            setup.enter(&limits)
        });
    }
    let mapper = match launch.map.map(MapRequest::start).transpose() {
        Ok(m) => m,
        Err(e) => return failed(format!("cannot start the id-mapping thread: {e}")),
    };
    let spawned = cmd.spawn();
    let mapped = mapper.map(MapThread::finish);
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            let why = match mapped {
                Some(Mapped::Failed(helper)) => format!("; mapping the subordinate ids: {helper}"),
                _ => String::new(),
            };
            return failed(format!(
                "cannot start {}: {e}{why}",
                launch.python.display()
            ));
        }
    };
    let pid = child.id() as libc::pid_t;
    let stdin = feed(child.stdin.take(), launch.stdin.to_vec());
    let stdout = capture(child.stdout.take(), launch.output_limit);
    let stderr = capture(child.stderr.take(), launch.output_limit);
    let timed_out = !wait_exit(pid, launch.timeout);
    // the leader is a zombie (or still running): its group id cannot be reused yet
    // SAFETY: killpg with our child's own process group.
    unsafe {
        libc::killpg(pid, libc::SIGKILL);
    }
    let status = child.wait();
    if let Some(uid) = launch.sweep_uid {
        super::isolation::kill_all_of(uid);
        // the next program of this slot runs as the same uid: its process limit must not still
        // count the dying processes of this one
        super::isolation::wait_none_left(uid);
    }
    // the input writer ends by itself once the program's end of the pipe is closed
    drop(stdin);
    let grace = Instant::now() + DRAIN_GRACE;
    let (stdout, stderr) = (stdout.collect(grace), stderr.collect(grace));
    let status = match (timed_out, status) {
        (true, _) => RunStatus::TimedOut,
        (false, Ok(s)) => match (s.code(), s.signal()) {
            (Some(code), _) => RunStatus::Exited(code),
            (None, Some(sig)) => RunStatus::Signaled(sig),
            (None, None) => RunStatus::Failed("the program ended in an unknown way".into()),
        },
        (false, Err(e)) => RunStatus::Failed(format!("cannot wait for the program: {e}")),
    };
    RunOutcome {
        status,
        stdout,
        stderr,
        wall: started.elapsed(),
    }
}

/// Waits (without reaping) until `pid` exits or `timeout` passes; true when it exited.
fn wait_exit(pid: libc::pid_t, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    // SAFETY: pidfd_open on our own child; the fd is closed below.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int;
    if pidfd >= 0 {
        let exited = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            let mut fds = libc::pollfd {
                fd: pidfd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: one pollfd we own.
            let rc = unsafe { libc::poll(&mut fds, 1, ms) };
            if rc > 0 {
                break true;
            }
            if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                break exited_now(pid);
            }
        };
        // SAFETY: closing the fd opened above.
        unsafe {
            libc::close(pidfd);
        }
        return exited;
    }
    // no pidfd (kernel < 5.3): poll the child's state
    while Instant::now() < deadline {
        if exited_now(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    exited_now(pid)
}

/// True when `pid` has exited (not reaped: WNOWAIT).
fn exited_now(pid: libc::pid_t) -> bool {
    // SAFETY: waitid fills the zeroed siginfo we own.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let rc = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        rc == 0 && info.si_pid() != 0
    }
}

fn feed(stdin: Option<std::process::ChildStdin>, data: Vec<u8>) -> Option<JoinHandle<()>> {
    let mut pipe = stdin?;
    std::thread::Builder::new()
        .name("sandbox-stdin".into())
        .spawn(move || {
            // a program that exits without reading its input closes the pipe: not an error
            let _ = pipe.write_all(&data);
        })
        .ok()
}

/// Output being read by a thread: what was kept so far, and a signal when the stream ended.
struct Captured {
    kept: Arc<Mutex<Vec<u8>>>,
    done: Option<mpsc::Receiver<()>>,
}

impl Captured {
    /// The output, waiting for the end of the stream until `deadline`.
    fn collect(self, deadline: Instant) -> String {
        if let Some(done) = self.done {
            let _ = done.recv_timeout(deadline.saturating_duration_since(Instant::now()));
        }
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&kept).into_owned()
    }
}

fn capture<R: Read + Send + 'static>(stream: Option<R>, limit: usize) -> Captured {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let Some(mut stream) = stream else {
        return Captured { kept, done: None };
    };
    let (tx, rx) = mpsc::channel();
    let sink = Arc::clone(&kept);
    let spawned = std::thread::Builder::new()
        .name("sandbox-output".into())
        .spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let mut kept = sink.lock().unwrap_or_else(|e| e.into_inner());
                        let room = limit.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.send(());
        });
    Captured {
        kept,
        done: spawned.ok().map(|_| rx),
    }
}
