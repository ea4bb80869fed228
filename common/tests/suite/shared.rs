//! `../shared/data` beside the repository root (or `$SWARM_SHARED_DATA`): real benchmark files
//! whose licenses keep them out of the repository. Tests that need them say so and skip when
//! they are absent.

use std::path::PathBuf;

/// The shared data folder: `$SWARM_SHARED_DATA`, else `<repository>/../shared/data`.
pub fn shared_data() -> PathBuf {
    match std::env::var_os("SWARM_SHARED_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// Records that a test did not run what it is about: printed, and appended to
/// `$SWARM_SKIP_LOG` (scripts/test.sh prints the list at the end). Shared data is not something
/// every CI provides, so this never fails a run.
pub fn skipped(test: &str, why: &str) {
    let line = format!("skipped: {test}: {why}");
    eprintln!("{line}");
    if let Some(log) = std::env::var_os("SWARM_SKIP_LOG") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(log)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}
