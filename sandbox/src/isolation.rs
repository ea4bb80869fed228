//! What separates a sandboxed program from the machine: new network, mount, IPC and PID
//! namespaces (the run's init kills everything left when the program ends, see [`pidns`]), a
//! file-system view that is read-only outside the program's folder and hides host sockets and
//! the agent's secrets (see [`mounts`]), a system-call filter (see [`seccomp`]), and a user id
//! other than the agent's: as root one of its own, as another user one of its subordinate range
//! where it has one (see [`subids`]). Everything here runs in the forked child before `exec`,
//! so it only makes raw system calls on data prepared beforehand.
//!
//! [`pidns`]: super::pidns
//! [`mounts`]: super::mounts
//! [`seccomp`]: super::seccomp
//! [`subids`]: super::subids

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

use super::limits::Limits;
use super::mounts::{FsView, PrivateWork};
use super::seccomp::{self, Filters};
use super::subids::ChildEnds;

/// How programs are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// The agent is root: new namespaces (PID included), the file-system view, the system-call
    /// filter, and the program runs as a user id of its own (so the process limit holds and
    /// nothing is writable outside its folder).
    Root,
    /// The agent is not root: a new user namespace holds the new network, mount, IPC and PID
    /// namespaces, the file-system view and the system-call filter. Where `newuidmap`,
    /// `newgidmap` and a subordinate range of the agent's user exist, the program runs as an id
    /// of that range (see [`subids`](super::subids)); elsewhere the namespace maps the agent's
    /// own ids (an unprivileged process can map no other).
    UserNamespace,
    /// No isolation (the user opted in with `allow_unisolated`): limits, a session of its own
    /// and the kill of its process group only.
    None,
}

impl Isolation {
    /// The isolation to try first for this process.
    pub fn preferred() -> Self {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            Self::Root
        } else {
            Self::UserNamespace
        }
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Root => "namespaces + own uid",
            Self::UserNamespace => "user namespace",
            Self::None => "none (allow_unisolated)",
        }
    }
}

/// The ids a program becomes before `exec`, and how its user namespace is mapped.
#[derive(Debug, Clone, Copy)]
pub enum Become {
    /// Stay as the agent (its own ids mapped by the child itself; `UserNamespace` without
    /// subordinate ids, and `None`).
    Agent,
    /// `Root`: this user id, and the group id of the same number.
    Uid(libc::uid_t),
    /// `UserNamespace` with subordinate ids: the agent's thread writes the maps (see
    /// [`subids`](super::subids)), then the program drops to these ids.
    Subordinate {
        /// The program's uid (the same number inside its namespace and out).
        uid: libc::uid_t,
        /// The program's gid (likewise).
        gid: libc::gid_t,
        /// The pipes to the thread that writes the maps.
        ends: ChildEnds,
    },
}

/// Everything the child needs, prepared before `fork` (no allocation happens after it).
pub struct ChildSetup {
    isolation: Isolation,
    view: Option<FsView>,
    filters: Option<&'static Filters>,
    /// The ids the program runs as.
    run_as: Become,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    setgroups: CString,
    uid_map_path: CString,
    gid_map_path: CString,
}

impl ChildSetup {
    /// The setup of a program running in `workdir` as `run_as` says, with the `hidden` paths
    /// masked. With subordinate ids the program's folder is a tmpfs of its own (`private`: its
    /// size and the files of `workdir` copied into it), owned by the program's ids.
    pub fn new(
        isolation: Isolation,
        workdir: &Path,
        run_as: Become,
        hidden: &[PathBuf],
        private: Option<(u64, &[&str])>,
    ) -> io::Result<Self> {
        let c = |bytes: &[u8]| {
            CString::new(bytes).map_err(|_| io::Error::other("a path holds a NUL byte"))
        };
        let isolated = isolation != Isolation::None;
        let filters = if isolated {
            Some(seccomp::filters().map_err(|e| io::Error::other(format!("seccomp: {e}")))?)
        } else {
            None
        };
        // SAFETY: getuid/getgid have no preconditions.
        let (own_uid, own_gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let private = match (run_as, private) {
            (Become::Subordinate { uid, gid, .. }, Some((size, files))) => {
                Some(PrivateWork::new(size, files, uid, gid)?)
            }
            _ => None,
        };
        Ok(Self {
            isolation,
            view: if isolated {
                Some(FsView::new(workdir, hidden, private)?)
            } else {
                None
            },
            filters,
            run_as,
            uid_map: format!("{own_uid} {own_uid} 1\n").into_bytes(),
            gid_map: format!("{own_gid} {own_gid} 1\n").into_bytes(),
            setgroups: c(b"/proc/self/setgroups")?,
            uid_map_path: c(b"/proc/self/uid_map")?,
            gid_map_path: c(b"/proc/self/gid_map")?,
        })
    }

    /// Enters the isolation and applies `limits`. Called in the child between `fork` and
    /// `exec`: only raw system calls on prepared data. With isolation the caller splits (see
    /// [`pidns`](super::pidns)); this returns in the process that goes on to `exec`.
    pub fn enter(&self, limits: &Limits) -> io::Result<()> {
        let namespaces = libc::CLONE_NEWNS | libc::CLONE_NEWNET | libc::CLONE_NEWIPC;
        match self.isolation {
            Isolation::None => return limits.apply(),
            Isolation::Root => unshare(namespaces | libc::CLONE_NEWPID)?,
            Isolation::UserNamespace => {
                // limits after this: a user namespace records the process limit in force when
                // it is made and applies it to every process of the agent's user
                unshare(libc::CLONE_NEWUSER | namespaces | libc::CLONE_NEWPID)?;
                if let Become::Subordinate { ends, .. } = self.run_as {
                    // the agent's thread maps the namespace's root to the agent and the
                    // program's ids to themselves (setgroups stays allowed: a subordinate gid
                    // range was granted), so the program can shed the agent's groups
                    ends.await_maps()?;
                } else {
                    write_file(&self.setgroups, b"deny")?;
                    write_file(&self.uid_map_path, &self.uid_map)?;
                    write_file(&self.gid_map_path, &self.gid_map)?;
                }
            }
        }
        super::pidns::split()?;
        if let Some(view) = &self.view {
            view.enter()?;
        }
        match self.run_as {
            Become::Agent => {}
            Become::Uid(uid) => become_ids(uid, uid)?,
            Become::Subordinate { uid, gid, .. } => become_ids(uid, gid)?,
        }
        limits.apply()?;
        match self.filters {
            Some(filters) => filters.install(),
            None => Ok(()),
        }
    }
}

/// Drops every supplementary group and becomes `uid` and `gid` (raw system calls: glibc's
/// wrappers signal other threads, and the child has none). From root (of the machine, or of the
/// user namespace) to another uid, every capability is lost.
fn become_ids(uid: libc::uid_t, gid: libc::gid_t) -> io::Result<()> {
    let (uid, gid) = (uid as libc::c_long, gid as libc::c_long);
    // SAFETY: raw id-changing syscalls with plain integer arguments.
    unsafe {
        check_long(libc::syscall(
            libc::SYS_setgroups,
            0,
            std::ptr::null::<libc::gid_t>(),
        ))?;
        check_long(libc::syscall(libc::SYS_setresgid, gid, gid, gid))?;
        check_long(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
    }
    Ok(())
}

fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes flags only.
    check(unsafe { libc::unshare(flags) })
}

fn write_file(path: &CString, data: &[u8]) -> io::Result<()> {
    // SAFETY: open/write/close on a NUL-terminated path and a borrowed buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        let err = io::Error::last_os_error();
        libc::close(fd);
        if n < 0 || n as usize != data.len() {
            return Err(err);
        }
    }
    Ok(())
}

pub(crate) fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn check_long(rc: libc::c_long) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Kills every process of `uid` (programs that left their process group): a forked helper
/// becomes `uid` and signals everything it may, until nothing is left. `Root` isolation only.
pub fn kill_all_of(uid: libc::uid_t) {
    let id = uid as libc::c_long;
    // SAFETY: the child only makes raw system calls and exits; the parent waits for it.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            if libc::syscall(libc::SYS_setresgid, id, id, id) == 0
                && libc::syscall(libc::SYS_setresuid, id, id, id) == 0
            {
                // kill(-1) reaches every process this uid may signal, except the caller
                for _ in 0..64 {
                    if libc::kill(-1, libc::SIGKILL) != 0 {
                        break;
                    }
                }
            }
            libc::_exit(0);
        }
        if pid > 0 {
            let mut status = 0;
            while libc::waitpid(pid, &mut status, 0) < 0
                && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
            {}
        }
    }
}

/// Waits (up to 2 s, killing again every 100 ms) until no process of `uid` is left, dying ones
/// included: SIGKILL is delivered asynchronously and an exiting process counts against its
/// uid's process limit until it is reaped.
pub fn wait_none_left(uid: libc::uid_t) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut round = 0u32;
    while processes_of(uid) > 0 && std::time::Instant::now() < until {
        round += 1;
        if round.is_multiple_of(10) {
            kill_all_of(uid);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// How many processes (zombies included) have `uid` as their real user id.
fn processes_of(uid: libc::uid_t) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("status")).is_ok_and(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("Uid:"))
                    .and_then(|v| v.split_whitespace().next())
                    .and_then(|v| v.parse::<libc::uid_t>().ok())
                    == Some(uid)
            })
        })
        .count()
}
