//! Resource limits of one sandboxed program (`setrlimit` in the child before `exec`).

use std::io;
use std::time::Duration;

use swarm_eval::exec::SandboxSettings;

/// The rlimits a program runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds (SIGXCPU, then SIGKILL one second later).
    pub cpu_s: u64,
    /// Address space, bytes.
    pub address_space: u64,
    /// Largest file, bytes.
    pub file_size: u64,
    /// Processes and threads of the program's user.
    pub processes: u64,
    /// Open files.
    pub open_files: u64,
}

impl Limits {
    /// The limits of a run with wall-clock `timeout` under `settings`.
    pub fn new(settings: &SandboxSettings, timeout: Duration) -> Self {
        Self {
            cpu_s: timeout.as_secs() + 1,
            address_space: settings.memory_mb.saturating_mul(1 << 20),
            file_size: settings.file_size_mb.saturating_mul(1 << 20),
            processes: settings.max_processes,
            open_files: 256,
        }
    }

    /// Applies every limit to the calling process (async-signal-safe: only `setrlimit`).
    pub fn apply(&self) -> io::Result<()> {
        set(libc::RLIMIT_CPU as libc::c_long, self.cpu_s, self.cpu_s + 1)?;
        let memory = self.address_space;
        set(libc::RLIMIT_AS as libc::c_long, memory, memory)?;
        let file = self.file_size;
        set(libc::RLIMIT_FSIZE as libc::c_long, file, file)?;
        let procs = self.processes;
        set(libc::RLIMIT_NPROC as libc::c_long, procs, procs)?;
        let files = self.open_files;
        set(libc::RLIMIT_NOFILE as libc::c_long, files, files)?;
        set(libc::RLIMIT_CORE as libc::c_long, 0, 0)
    }
}

/// `prlimit64(0, resource, {soft, hard}, NULL)`: a raw syscall, the same on glibc and musl.
fn set(resource: libc::c_long, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit64 {
        rlim_cur: soft,
        rlim_max: hard,
    };
    let none: *mut libc::rlimit64 = std::ptr::null_mut();
    // SAFETY: the kernel reads `limit` and writes nothing (the old-limit pointer is NULL).
    let rc = unsafe { libc::syscall(libc::SYS_prlimit64, 0, resource, &limit, none) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
