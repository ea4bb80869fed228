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
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove a sandbox folder");
        }
    }
}
