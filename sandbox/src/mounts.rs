//! The sandbox's view of the file system, made in its own mount namespace: every mount
//! read-only and nosuid; fresh, empty, read-only tmpfs over the folders where host services
//! keep their unix sockets and shared memory (`/run`, `/var/run`, `/tmp`, `/dev/shm`); the
//! agent's secret files behind `/dev/null` (folders behind an empty tmpfs no one may list); a
//! `/proc` of the run's own PID namespace; the program's work folder the one writable place.
//! That folder is the agent's fresh folder, bind-mounted; where the program runs under a
//! subordinate id (see [`subids`](super::subids)) it is a tmpfs of the run instead, owned by
//! that id, with the folder's files copied in: what the program writes dies with its mount
//! namespace, and no file of another owner is left for the agent to remove.
//! Everything runs in the forked child before `exec`: raw system calls on data prepared here.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::isolation::check;

/// Folders replaced by an empty tmpfs: where unix sockets (D-Bus, ssh-agent, docker.sock),
/// POSIX shared memory and other programs' temporary files live.
pub const SCRUBBED: [&str; 4] = ["/run", "/var/run", "/tmp", "/dev/shm"];

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

/// A path hidden from the sandbox.
struct Hidden {
    path: CString,
    folder: bool,
}

/// A work folder of its own for a program under subordinate ids: a tmpfs, owned by its ids,
/// with these files of the agent's folder copied in.
pub struct PrivateWork {
    options: CString,
    files: Vec<CString>,
    uid: libc::uid_t,
    gid: libc::gid_t,
}

impl PrivateWork {
    /// A tmpfs of `size` bytes (at most 4096 files and folders) owned by `uid`/`gid`, holding
    /// copies of `files` (names in the agent's folder).
    pub fn new(size: u64, files: &[&str], uid: libc::uid_t, gid: libc::gid_t) -> io::Result<Self> {
        Ok(Self {
            options: c(format!(
                "size={},nr_inodes=4096,mode=700,uid={uid},gid={gid}",
                size.max(1 << 20)
            )
            .as_bytes())?,
            files: files
                .iter()
                .map(|f| c(f.as_bytes()))
                .collect::<io::Result<_>>()?,
            uid,
            gid,
        })
    }

    /// Mounts the tmpfs on `workdir` and copies the files from the current folder (the agent's
    /// folder, which the mount covers but the current folder still is).
    fn mount(&self, workdir: &CString, tmpfs: &CString) -> io::Result<()> {
        // SAFETY: mount/open on NUL-terminated strings owned by self; the descriptors are
        // closed by `copy_into` or here.
        unsafe {
            check(libc::mount(
                tmpfs.as_ptr(),
                workdir.as_ptr(),
                tmpfs.as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                self.options.as_ptr().cast(),
            ))?;
            let dir = libc::open(
                workdir.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            );
            if dir < 0 {
                return Err(io::Error::last_os_error());
            }
            let copied = self.copy_into(dir);
            libc::close(dir);
            copied
        }
    }

    fn copy_into(&self, dir: libc::c_int) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        for name in &self.files {
            // SAFETY: openat/read/write/fchown/close on descriptors opened here and a buffer
            // owned here.
            unsafe {
                let from = libc::openat(
                    libc::AT_FDCWD,
                    name.as_ptr(),
                    libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                );
                if from < 0 {
                    return Err(io::Error::last_os_error());
                }
                let to = libc::openat(
                    dir,
                    name.as_ptr(),
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
                    0o600 as libc::c_uint,
                );
                if to < 0 {
                    let e = io::Error::last_os_error();
                    libc::close(from);
                    return Err(e);
                }
                let copied = copy(from, to, &mut buf)
                    .and_then(|()| check(libc::fchown(to, self.uid, self.gid)));
                libc::close(from);
                libc::close(to);
                copied?;
            }
        }
        Ok(())
    }
}

/// Copies `from` to `to` until the end (raw read/write).
fn copy(from: libc::c_int, to: libc::c_int, buf: &mut [u8]) -> io::Result<()> {
    loop {
        // SAFETY: read into a buffer owned by the caller.
        let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(io::Error::last_os_error());
        }
        if n == 0 {
            return Ok(());
        }
        let mut done = 0usize;
        while done < n as usize {
            // SAFETY: write from the part of the buffer read above.
            let w = unsafe { libc::write(to, buf[done..].as_ptr().cast(), n as usize - done) };
            if w < 0 {
                if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return Err(io::Error::last_os_error());
            }
            done += w as usize;
        }
    }
}

/// Everything the child needs to make its view, prepared before `fork`.
pub struct FsView {
    root: CString,
    workdir: CString,
    /// The work folder and each folder above it, outermost first (made again in a tmpfs that
    /// covers them).
    workdir_chain: Vec<CString>,
    scrubbed: Vec<CString>,
    hidden: Vec<Hidden>,
    dev_null: CString,
    proc_dir: CString,
    proc_fs: CString,
    tmpfs: CString,
    scrub_options: CString,
    hide_options: CString,
    /// The work folder as a tmpfs of its own (subordinate ids), else a bind mount.
    private: Option<PrivateWork>,
}

fn c(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::other("a path holds a NUL byte"))
}

fn c_path(path: &Path) -> io::Result<CString> {
    c(path.as_os_str().as_bytes())
}

impl FsView {
    /// The view of a program working in `workdir` with `hidden` paths masked (paths that do
    /// not exist are skipped; links are resolved now, so their targets are what is hidden);
    /// with `private`, the work folder is that tmpfs.
    pub fn new(
        workdir: &Path,
        hidden: &[PathBuf],
        private: Option<PrivateWork>,
    ) -> io::Result<Self> {
        let mut workdir_chain: Vec<CString> = workdir
            .ancestors()
            .filter(|p| p.parent().is_some())
            .map(c_path)
            .collect::<io::Result<_>>()?;
        workdir_chain.reverse();
        let mut masks = Vec::new();
        for path in hidden {
            let Ok(real) = std::fs::canonicalize(path) else {
                continue;
            };
            let folder = real.is_dir();
            masks.push(Hidden {
                path: c_path(&real)?,
                folder,
            });
        }
        Ok(Self {
            root: c(b"/")?,
            workdir: c_path(workdir)?,
            workdir_chain,
            scrubbed: SCRUBBED
                .iter()
                .map(|p| c(p.as_bytes()))
                .collect::<io::Result<_>>()?,
            hidden: masks,
            dev_null: c(b"/dev/null")?,
            proc_dir: c(b"/proc")?,
            proc_fs: c(b"proc")?,
            tmpfs: c(b"tmpfs")?,
            scrub_options: c(b"size=1m,nr_inodes=1024,mode=755")?,
            hide_options: c(b"size=4k,nr_inodes=8,mode=000")?,
            private,
        })
    }

    /// Makes the view in the calling process's (new) mount namespace; mounts a `/proc` of the
    /// PID namespace the caller is in. Leaves the caller in the work folder.
    pub fn enter(&self) -> io::Result<()> {
        let null = std::ptr::null::<libc::c_char>();
        let none = std::ptr::null::<libc::c_void>();
        // SAFETY (every block below): mount/mkdir/chdir on NUL-terminated strings owned by self;
        // NULL where an argument is unused.
        unsafe {
            check(libc::mount(
                null,
                self.root.as_ptr(),
                null,
                libc::MS_REC | libc::MS_PRIVATE,
                none,
            ))?;
        }
        for hidden in &self.hidden {
            let rc = unsafe {
                if hidden.folder {
                    libc::mount(
                        self.tmpfs.as_ptr(),
                        hidden.path.as_ptr(),
                        self.tmpfs.as_ptr(),
                        libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                        self.hide_options.as_ptr().cast(),
                    )
                } else {
                    libc::mount(
                        self.dev_null.as_ptr(),
                        hidden.path.as_ptr(),
                        null,
                        libc::MS_BIND,
                        none,
                    )
                }
            };
            skip_missing(rc)?;
        }
        mount_setattr(
            &self.root,
            AT_RECURSIVE,
            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID,
            0,
        )?;
        // the work folder as it is now stays the current folder under whatever covers it
        check(unsafe { libc::chdir(self.workdir.as_ptr()) })?;
        for dir in &self.scrubbed {
            let rc = unsafe {
                libc::mount(
                    self.tmpfs.as_ptr(),
                    dir.as_ptr(),
                    self.tmpfs.as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                    self.scrub_options.as_ptr().cast(),
                )
            };
            skip_missing(rc)?;
        }
        // (folders made here are in an empty tmpfs: searchable, so that a program under an id
        // other than the one making them reaches its folder)
        for dir in &self.workdir_chain {
            let rc = unsafe { libc::mkdir(dir.as_ptr(), 0o755) };
            if rc < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST) {
                return Err(io::Error::last_os_error());
            }
        }
        match &self.private {
            Some(private) => private.mount(&self.workdir, &self.tmpfs)?,
            None => {
                let here = c"."; // the work folder entered above
                unsafe {
                    check(libc::mount(
                        here.as_ptr(),
                        self.workdir.as_ptr(),
                        null,
                        libc::MS_BIND,
                        none,
                    ))?;
                }
                mount_setattr(&self.workdir, 0, 0, MOUNT_ATTR_RDONLY)?;
            }
        }
        for dir in &self.scrubbed {
            match mount_setattr(dir, 0, MOUNT_ATTR_RDONLY, 0) {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                other => other?,
            }
        }
        // enter the writable bind mount
        check(unsafe { libc::chdir(self.workdir.as_ptr()) })?;
        self.fresh_proc()
    }

    /// A `/proc` that shows the run's own PID namespace only; where the kernel refuses one (a
    /// user namespace under a partly hidden `/proc`), an empty tmpfs instead.
    fn fresh_proc(&self) -> io::Result<()> {
        let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        // SAFETY: mount on NUL-terminated strings owned by self.
        let rc = unsafe {
            libc::mount(
                self.proc_fs.as_ptr(),
                self.proc_dir.as_ptr(),
                self.proc_fs.as_ptr(),
                flags,
                std::ptr::null(),
            )
        };
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: as above.
        check(unsafe {
            libc::mount(
                self.tmpfs.as_ptr(),
                self.proc_dir.as_ptr(),
                self.tmpfs.as_ptr(),
                flags,
                self.hide_options.as_ptr().cast(),
            )
        })
    }
}

/// A mount on a path that does not exist is skipped; other failures are errors.
fn skip_missing(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ENOENT) {
            return Err(e);
        }
    }
    Ok(())
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
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
