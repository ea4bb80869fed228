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
