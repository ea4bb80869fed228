//! What separates a sandboxed program from the machine: new network, mount and IPC namespaces,
//! the whole file system read-only except the program's own folder, and (as root) an
//! unprivileged user id of its own. Everything here runs in the forked child before `exec`, so
//! it only makes raw system calls on data prepared beforehand.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How programs are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// The agent is root: new namespaces, read-only file system, and the program runs as a
    /// user id of its own (so the process limit holds and nothing is writable outside its
    /// folder).
    Root,
    /// The agent is not root: a new user namespace (mapping the agent's own ids) holds the new
    /// network, mount and IPC namespaces and the read-only file system.
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

// <linux/mount.h>; libc has the syscall number but not every constant.
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const AT_RECURSIVE: libc::c_uint = 0x8000;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Everything the child needs, prepared before `fork` (no allocation happens after it).
pub struct ChildSetup {
    isolation: Isolation,
    root: CString,
    workdir: CString,
    /// The user id (and group id) to become: `Root` only.
    uid: libc::uid_t,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    setgroups: CString,
    uid_map_path: CString,
    gid_map_path: CString,
}

impl ChildSetup {
    /// The setup of a program running in `workdir` as `uid` (used with [`Isolation::Root`]).
    pub fn new(isolation: Isolation, workdir: &Path, uid: libc::uid_t) -> io::Result<Self> {
        let c = |bytes: &[u8]| {
            CString::new(bytes).map_err(|_| io::Error::other("a path holds a NUL byte"))
        };
        // SAFETY: getuid/getgid have no preconditions.
        let (own_uid, own_gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Ok(Self {
            isolation,
            root: c(b"/")?,
            workdir: c(workdir.as_os_str().as_bytes())?,
            uid,
            uid_map: format!("{own_uid} {own_uid} 1\n").into_bytes(),
            gid_map: format!("{own_gid} {own_gid} 1\n").into_bytes(),
            setgroups: c(b"/proc/self/setgroups")?,
            uid_map_path: c(b"/proc/self/uid_map")?,
            gid_map_path: c(b"/proc/self/gid_map")?,
        })
    }

    /// Enters the isolation. Called in the child between `fork` and `exec`, before the limits:
    /// only raw system calls on prepared data.
    pub fn enter(&self) -> io::Result<()> {
        match self.isolation {
            Isolation::None => Ok(()),
            Isolation::Root => {
                unshare(libc::CLONE_NEWNS | libc::CLONE_NEWNET | libc::CLONE_NEWIPC)?;
                self.read_only_except_workdir()?;
                self.become_uid()
            }
            Isolation::UserNamespace => {
                unshare(
                    libc::CLONE_NEWUSER
                        | libc::CLONE_NEWNS
                        | libc::CLONE_NEWNET
                        | libc::CLONE_NEWIPC,
                )?;
                write_file(&self.setgroups, b"deny")?;
                write_file(&self.uid_map_path, &self.uid_map)?;
                write_file(&self.gid_map_path, &self.gid_map)?;
                self.read_only_except_workdir()
            }
        }
    }

    /// Makes every mount read-only (and nosuid) in the new mount namespace, except a bind
    /// mount of the work folder.
    fn read_only_except_workdir(&self) -> io::Result<()> {
        let null = std::ptr::null::<libc::c_char>();
        // SAFETY: the paths are NUL-terminated strings owned by self; NULL is allowed for the
        // unused arguments.
        unsafe {
            check(libc::mount(
                null,
                self.root.as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                self.workdir.as_ptr(),
                self.workdir.as_ptr(),
                null,
                libc::MS_BIND,
                std::ptr::null(),
            ))?;
        }
        mount_setattr(
            &self.root,
            AT_RECURSIVE,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID,
            0,
        )?;
        mount_setattr(&self.workdir, 0, 0, MOUNT_ATTR_RDONLY)?;
        // the working folder was entered before the bind mount existed: enter the mount
        // SAFETY: chdir to a NUL-terminated path owned by self.
        check(unsafe { libc::chdir(self.workdir.as_ptr()) })
    }

    /// Drops every group and becomes `uid` (raw system calls: glibc's wrappers signal other
    /// threads, and the child has none).
    fn become_uid(&self) -> io::Result<()> {
        let uid = self.uid as libc::c_long;
        // SAFETY: raw id-changing syscalls with plain integer arguments.
        unsafe {
            check_long(libc::syscall(
                libc::SYS_setgroups,
                0,
                std::ptr::null::<libc::gid_t>(),
            ))?;
            check_long(libc::syscall(libc::SYS_setresgid, uid, uid, uid))?;
            check_long(libc::syscall(libc::SYS_setresuid, uid, uid, uid))?;
        }
        Ok(())
    }
}

fn unshare(flags: libc::c_int) -> io::Result<()> {
    // SAFETY: unshare takes flags only.
    check(unsafe { libc::unshare(flags) })
}

fn mount_setattr(path: &CString, flags: libc::c_uint, set: u64, clear: u64) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: the kernel reads `attr` (its size is passed) and the NUL-terminated path.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    check_long(rc)
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

fn check(rc: libc::c_int) -> io::Result<()> {
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
