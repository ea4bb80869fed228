//! The fresh folder a program runs in: created empty under the system temp folder, owned by
//! the program's user, removed with everything in it afterwards.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary folder removed on drop.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    /// Creates a new empty folder; with `owner`, that user owns it (mode 0700).
    pub fn create(owner: Option<libc::uid_t>) -> io::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!("swarm-sandbox-{}-{n}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => {
                    let dir = Self { path };
                    std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o700))?;
                    if let Some(uid) = owner {
                        std::os::unix::fs::chown(&dir.path, Some(uid), Some(uid))?;
                    }
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("cannot create {}: {e}", path.display()),
                    ));
                }
            }
        }
        Err(io::Error::other(format!(
            "cannot create a fresh folder in {}",
            base.display()
        )))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::fs::remove_dir_all(&self.path).is_ok() {
            return;
        }
        // a program running as the agent may have taken the write bit off its own folders
        open_up(&self.path);
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a sandbox folder");
        }
    }
}

/// Makes `dir` and the folders under it (links not followed; at most 100,000) searchable and
/// writable by their owner, as far as this process may.
fn open_up(dir: &Path) {
    let mut todo = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = todo.pop() {
        seen += 1;
        if seen > 100_000 {
            return;
        }
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_the_program_closed_is_still_removed() {
        let dir = WorkDir::create(None).unwrap();
        let path = dir.path().to_path_buf();
        let inner = path.join("closed").join("deeper");
        std::fs::create_dir_all(&inner).unwrap();
        std::fs::write(inner.join("left.txt"), "x").unwrap();
        for folder in [&inner, &path.join("closed")] {
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o500)).unwrap();
        }
        drop(dir);
        assert!(!path.exists(), "{} was left", path.display());
    }
}
