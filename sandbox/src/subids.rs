//! Subordinate ids for the non-root sandbox. An unprivileged process can map only its own ids
//! into a user namespace, so a program sandboxed by a non-root agent would run, outside its
//! namespace, as the agent's own user, and read whatever that user may read (`~/.ssh`). Where
//! the setuid helpers `newuidmap` and `newgidmap` (Debian package `uidmap`) are installed and
//! `/etc/subuid` and `/etc/subgid` give the agent's user (by name or by uid) a range, the agent
//! has the helpers write its program's maps instead:
//!
//! - the namespace's root is the agent's own id, so the setup before `exec` (mounts, the copy of
//!   the program into its folder) works as before;
//! - one id of the range, the same number inside and outside, is the program's: the setup drops
//!   every supplementary group and becomes that uid and gid before `exec` (losing every
//!   capability), so the program reads only what others may read, and writes only its folder
//!   (a tmpfs of its own run, see [`mounts`](super::mounts): nothing it writes lands on a disk
//!   where the agent would have to delete files of another owner).
//!
//! Where the helpers or the ranges are absent the sandbox maps the agent's own ids as before
//! and [`ProgramIds::Unmapped`] says why. The child, in its new user namespace, sends its pid
//! through a pipe and waits; a thread of the agent runs the helpers for that pid and answers
//! (see [`MapRequest`]).

use std::ffi::CStr;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;

/// The files newuidmap and newgidmap read.
pub const SUBUID: &str = "/etc/subuid";
/// See [`SUBUID`].
pub const SUBGID: &str = "/etc/subgid";

/// The ids a sandboxed program runs as, outside its user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramIds {
    /// Root mode: a user id of its own per slot (see [`slots`](super::slots)).
    Slot,
    /// Non-root mode with a subordinate range: an id of it, not the agent's.
    Subordinate(SubIds),
    /// Non-root mode without one: the agent's own uid and gid; why.
    Unmapped {
        /// The agent's uid, which the program runs as.
        uid: u32,
        /// Why no subordinate id is used.
        reason: String,
    },
    /// No isolation (`allow_unisolated`): the agent's own ids.
    Agent,
}

impl ProgramIds {
    /// True when a program runs under an id that is not the agent's own.
    pub fn separate(&self) -> bool {
        matches!(self, Self::Slot | Self::Subordinate(_))
    }
}

impl fmt::Display for ProgramIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Slot => write!(f, "a uid of its own per slot (root mode)"),
            Self::Subordinate(ids) => write!(
                f,
                "subordinate ids of {}: uid {} gid {} (one per slot, down from there)",
                ids.user,
                ids.uid_for(0),
                ids.gid_for(0)
            ),
            Self::Unmapped { uid, reason } => {
                write!(f, "the agent's own uid {uid} (unmapped: {reason})")
            }
            Self::Agent => write!(f, "the agent's own ids (no isolation)"),
        }
    }
}

/// A range of subordinate ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

impl Range {
    /// The id for `slot`: from the top of the range down (containers that share the range
    /// use it from the bottom up), around again past its size.
    fn id_for(&self, slot: u16) -> u32 {
        let back = u32::from(slot) % self.count.max(1);
        self.start + (self.count.max(1) - 1 - back)
    }
}

/// What maps a program to subordinate ids: the helpers, the agent's ids and its ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubIds {
    /// The agent's user, as the helpers know it (its name, or `uid N`).
    pub user: String,
    /// The agent's real uid (the namespace's root).
    pub agent_uid: u32,
    /// The agent's real gid.
    pub agent_gid: u32,
    /// The range of `/etc/subuid`.
    pub uids: Range,
    /// The range of `/etc/subgid`.
    pub gids: Range,
    /// The `newuidmap` helper.
    pub newuidmap: PathBuf,
    /// The `newgidmap` helper.
    pub newgidmap: PathBuf,
}

impl SubIds {
    /// The helpers and ranges of this process's real user, or why there are none.
    pub fn lookup() -> Result<Self, String> {
        let newuidmap = helper("newuidmap")?;
        let newgidmap = helper("newgidmap")?;
        // SAFETY: getuid/getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let (name, primary) = passwd_of(uid)?;
        let user = match &name {
            Some(n) => n.clone(),
            None => format!("uid {uid}"),
        };
        if gid != primary {
            return Err(format!(
                "the agent's group id {gid} is not the primary group {primary} of {user} (newgidmap maps only that one)"
            ));
        }
        let read = |path: &str| match std::fs::read_to_string(path) {
            Ok(text) => Ok(text),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(format!("cannot read {path}: {e}")),
        };
        let uids = find_range(&read(SUBUID)?, name.as_deref(), uid, uid)
            .map_err(|why| format!("no {SUBUID} range for user {user}{why}"))?;
        let gids = find_range(&read(SUBGID)?, name.as_deref(), uid, gid)
            .map_err(|why| format!("no {SUBGID} range for user {user}{why}"))?;
        Ok(Self {
            user,
            agent_uid: uid,
            agent_gid: gid,
            uids,
            gids,
            newuidmap,
            newgidmap,
        })
    }

    /// The uid of the programs of `slot`.
    pub fn uid_for(&self, slot: u16) -> u32 {
        self.uids.id_for(slot)
    }

    /// The gid of the programs of `slot`.
    pub fn gid_for(&self, slot: u16) -> u32 {
        self.gids.id_for(slot)
    }
}

/// `name` on PATH, else in `/usr/bin` or `/bin`.
fn helper(name: &str) -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed (Debian package uidmap)"))
}

/// The name and primary group of `uid` in the password database.
fn passwd_of(uid: libc::uid_t) -> Result<(Option<String>, libc::gid_t), String> {
    let mut size = 16 * 1024;
    loop {
        let mut buf = vec![0u8; size];
        // SAFETY: a zeroed passwd is a valid out-parameter.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r fills `pwd` with pointers into `buf`, which outlives their use here.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut pwd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && size < (1 << 20) {
            size *= 4;
            continue;
        }
        if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
            return Err(format!(
                "uid {uid} has no entry in the password database (newuidmap needs one)"
            ));
        }
        // SAFETY: pw_name points to a NUL-terminated string in `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) }
            .to_str()
            .ok()
            .map(str::to_owned);
        return Ok((name, pwd.pw_gid));
    }
}

/// The first usable range of `/etc/subuid`-format `text` for the user `name` or `uid`: one
/// that holds neither id 0 nor `own` (the agent's own id, which the program must not get);
/// else why none is (a text that follows "no range for user X").
pub fn find_range(text: &str, name: Option<&str>, uid: u32, own: u32) -> Result<Range, String> {
    let uid_text = uid.to_string();
    let mut refused = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(':');
        let (Some(owner), Some(start), Some(count), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if Some(owner) != name && owner != uid_text {
            continue;
        }
        let (Ok(start), Ok(count)) = (start.parse::<u32>(), count.parse::<u32>()) else {
            continue;
        };
        // the last id must exist and not be (uid_t)-1
        let last = match count.checked_sub(1).and_then(|c| start.checked_add(c)) {
            Some(last) if last != u32::MAX => last,
            _ => continue,
        };
        if start == 0 || (start..=last).contains(&own) {
            refused.push(format!("{start}:{count}"));
            continue;
        }
        return Ok(Range { start, count });
    }
    if refused.is_empty() {
        Err(String::new())
    } else {
        Err(format!(
            " that holds neither id 0 nor its own id {own} (refused: {})",
            refused.join(", ")
        ))
    }
}

/// One program's maps, asked for before its `fork`: the pipes between the child and the thread
/// that runs the helpers, and the maps to write.
pub struct MapRequest {
    /// The child writes its pid here (the child's end).
    pid_w: OwnedFd,
    /// The child reads the answer here (the child's end).
    answer_r: OwnedFd,
    /// The thread's ends.
    pid_r: OwnedFd,
    answer_w: OwnedFd,
    helpers: [(PathBuf, String); 2],
}

/// The child's side of a [`MapRequest`]: raw descriptors, used between `fork` and `exec`.
#[derive(Debug, Clone, Copy)]
pub struct ChildEnds {
    pid_w: RawFd,
    answer_r: RawFd,
    /// The thread's ends, which the child closes (so that it sees the thread's end).
    pid_r: RawFd,
    answer_w: RawFd,
}

/// What the thread did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The maps are written.
    Done,
    /// The child ended (or failed) before it asked.
    NotAsked,
    /// A helper failed: its command and message.
    Failed(String),
}

/// The thread of a started [`MapRequest`], and the child's ends (closed in the agent once the
/// child has started).
pub struct MapThread {
    child_ends: Option<(OwnedFd, OwnedFd)>,
    thread: Option<JoinHandle<Mapped>>,
}

impl MapRequest {
    /// The maps of a program that runs as `uid`/`gid` of `ids`: the namespace's root is the
    /// agent, and the program's ids are the same numbers inside and out.
    pub fn new(ids: &SubIds, uid: u32, gid: u32) -> io::Result<Self> {
        let (pid_r, pid_w) = pipe()?;
        let (answer_r, answer_w) = pipe()?;
        Ok(Self {
            pid_w,
            answer_r,
            pid_r,
            answer_w,
            helpers: [
                (
                    ids.newuidmap.clone(),
                    format!("0 {} 1 {uid} {uid} 1", ids.agent_uid),
                ),
                (
                    ids.newgidmap.clone(),
                    format!("0 {} 1 {gid} {gid} 1", ids.agent_gid),
                ),
            ],
        })
    }

    /// The child's ends (valid while this request or its [`MapThread`] lives).
    pub fn child_ends(&self) -> ChildEnds {
        ChildEnds {
            pid_w: self.pid_w.as_raw_fd(),
            answer_r: self.answer_r.as_raw_fd(),
            pid_r: self.pid_r.as_raw_fd(),
            answer_w: self.answer_w.as_raw_fd(),
        }
    }

    /// Starts the thread that waits for the child's pid, runs the helpers and answers. Call
    /// before the child's `fork`; [`MapThread::finish`] after it.
    pub fn start(self) -> io::Result<MapThread> {
        let Self {
            pid_w,
            answer_r,
            pid_r,
            answer_w,
            helpers,
        } = self;
        let thread = std::thread::Builder::new()
            .name("sandbox-idmap".into())
            .spawn(move || serve(pid_r, answer_w, &helpers))?;
        Ok(MapThread {
            child_ends: Some((pid_w, answer_r)),
            thread: Some(thread),
        })
    }
}

impl MapThread {
    /// Closes the agent's copies of the child's ends (the child has started, or failed to) and
    /// waits for the thread.
    pub fn finish(mut self) -> Mapped {
        self.child_ends = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(mapped)) => mapped,
            _ => Mapped::Failed("the id-mapping thread panicked".into()),
        }
    }
}

impl Drop for MapThread {
    fn drop(&mut self) {
        // never leave the thread waiting on ends only this process holds
        self.child_ends = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(pid_r: OwnedFd, answer_w: OwnedFd, helpers: &[(PathBuf, String); 2]) -> Mapped {
    let mut pid = [0u8; 4];
    let mapped = match File::from(pid_r).read_exact(&mut pid) {
        Err(_) => Mapped::NotAsked,
        Ok(()) => {
            let pid = i32::from_ne_bytes(pid);
            helpers
                .iter()
                .find_map(|(helper, map)| run_helper(helper, pid, map).err())
                .map_or(Mapped::Done, Mapped::Failed)
        }
    };
    let answer = if mapped == Mapped::Done { 0u8 } else { 1u8 };
    // a child that is gone reads no answer: not an error here
    let _ = File::from(answer_w).write_all(&[answer]);
    mapped
}

fn run_helper(helper: &Path, pid: i32, map: &str) -> Result<(), String> {
    let command = format!("{} {pid} {map}", helper.display());
    let out = Command::new(helper)
        .arg(pid.to_string())
        .args(map.split(' '))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    Err(format!("{command}: {} ({})", stderr.trim(), out.status))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 fills two descriptors, owned below.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are fresh descriptors of this process.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

impl ChildEnds {
    /// In the child, right after it made its user namespace: closes the thread's ends, sends
    /// the pid, waits for the answer, closes its own ends. Raw system calls only (between
    /// `fork` and `exec`); a refusal is `EPERM` (the thread holds the message).
    pub fn await_maps(&self) -> io::Result<()> {
        // SAFETY: raw close/getpid/write/read on descriptors inherited from the agent and a
        // buffer owned here.
        unsafe {
            libc::close(self.pid_r);
            libc::close(self.answer_w);
            let pid = libc::getpid().to_ne_bytes();
            let written = libc::write(self.pid_w, pid.as_ptr().cast(), pid.len());
            let sent = written == pid.len() as isize;
            let sent_err = io::Error::last_os_error();
            libc::close(self.pid_w);
            if !sent {
                libc::close(self.answer_r);
                return Err(sent_err);
            }
            let mut answer = [1u8; 1];
            let n = loop {
                let n = libc::read(self.answer_r, answer.as_mut_ptr().cast(), 1);
                if n >= 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    break n;
                }
            };
            libc::close(self.answer_r);
            if n == 1 && answer[0] == 0 {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(libc::EPERM))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_found_by_name_or_uid_and_never_hold_root_or_the_agent() {
        let text = "# comment\nalice:100000:65536\nbob:x:1\n1001:200000:10\ncarol:0:65536\ncarol:1000:10\ncarol:300000:5\n";
        assert_eq!(
            find_range(text, Some("alice"), 1000, 1000),
            Ok(Range {
                start: 100000,
                count: 65536
            })
        );
        // by uid when the name has none
        assert_eq!(
            find_range(text, Some("dave"), 1001, 1001),
            Ok(Range {
                start: 200000,
                count: 10
            })
        );
        // a range holding 0 or the agent's own id is passed over
        assert_eq!(
            find_range(text, Some("carol"), 1005, 1005),
            Ok(Range {
                start: 300000,
                count: 5
            })
        );
        let e = find_range("carol:0:65536\n", Some("carol"), 1005, 1005).unwrap_err();
        assert!(e.contains("0:65536"), "{e}");
        assert_eq!(
            find_range(text, Some("erin"), 1002, 1002),
            Err(String::new())
        );
        // malformed and overflowing lines are skipped
        assert_eq!(
            find_range(
                "erin:4294967295:1\nerin:4294967000:1000\nerin:5:0\nerin:7\n",
                Some("erin"),
                1,
                1
            ),
            Err(String::new())
        );
        assert!(find_range("", None, 1, 1).is_err());
    }

    #[test]
    fn slots_take_ids_from_the_top_of_the_range_down() {
        let range = Range {
            start: 100000,
            count: 3,
        };
        assert_eq!(range.id_for(0), 100002);
        assert_eq!(range.id_for(1), 100001);
        assert_eq!(range.id_for(2), 100000);
        assert_eq!(range.id_for(3), 100002);
    }
}
