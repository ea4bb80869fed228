//! Which files a coordinator may make this agent read. A shard spec can name a tokenizer file;
//! an agent started from the command line reads such files only inside its `--data-dir`, so a
//! plan cannot make it open anything else on its machine.

use std::path::{Path, PathBuf};

use swarm_common::tokenize::names_file;

/// What file paths in a shard spec may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAccess {
    /// Any path: in-process agents, which share the coordinator's own file access.
    Unrestricted,
    /// Only files inside this directory; relative paths are taken from it.
    Within(PathBuf),
    /// No file at all (an agent binary started without `--data-dir`).
    Denied,
}

impl FileAccess {
    /// The path to open for the tokenizer spec `spec` (unchanged when it names a built-in
    /// encoding), or why it is refused.
    pub fn tokenizer(&self, spec: &str) -> Result<String, String> {
        if !names_file(spec) {
            return Ok(spec.to_owned());
        }
        match self {
            FileAccess::Unrestricted => Ok(spec.to_owned()),
            FileAccess::Denied => Err(format!(
                "tokenizer {spec:?} is a file, and this agent reads no files (start it with --data-dir DIR)"
            )),
            FileAccess::Within(dir) => within(dir, Path::new(spec))
                .map(|p| p.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    format!(
                        "tokenizer {spec:?} is not a file inside the agent's data dir {}",
                        dir.display()
                    )
                }),
        }
    }
}

/// `path` (relative to `dir` unless absolute) when it exists and, links resolved, lies inside
/// `dir`.
fn within(dir: &Path, path: &Path) -> Option<PathBuf> {
    let root = dir.canonicalize().ok()?;
    let full = root.join(path).canonicalize().ok()?;
    full.starts_with(&root).then_some(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_encodings_need_no_file_access() {
        assert_eq!(
            FileAccess::Denied.tokenizer("cl100k_base").unwrap(),
            "cl100k_base"
        );
        assert_eq!(
            FileAccess::Denied.tokenizer("tiktoken:gpt-4o").unwrap(),
            "tiktoken:gpt-4o"
        );
    }

    #[test]
    fn files_are_refused_without_a_data_dir() {
        let err = FileAccess::Denied.tokenizer("/etc/passwd").unwrap_err();
        assert!(err.contains("--data-dir"), "{err}");
    }

    #[test]
    fn only_files_inside_the_data_dir_resolve() {
        let outer = tempfile::tempdir().unwrap();
        let data = outer.path().join("data");
        std::fs::create_dir_all(data.join("tok")).unwrap();
        std::fs::write(data.join("tok/tokenizer.json"), "{}").unwrap();
        std::fs::write(outer.path().join("secret.json"), "{}").unwrap();
        let access = FileAccess::Within(data.clone());

        let inside = access.tokenizer("tok/tokenizer.json").unwrap();
        assert!(inside.ends_with("data/tok/tokenizer.json"), "{inside}");
        let abs = data.join("tok").to_string_lossy().into_owned();
        assert!(access.tokenizer(&abs).is_ok());

        for bad in [
            "../secret.json",
            "tok/../../secret.json",
            "/etc/passwd",
            "missing.json",
        ] {
            let err = access.tokenizer(bad).unwrap_err();
            assert!(err.contains("data dir"), "{bad}: {err}");
        }
        let abs_out = outer.path().join("secret.json");
        assert!(access.tokenizer(&abs_out.to_string_lossy()).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_data_dir_is_refused() {
        let outer = tempfile::tempdir().unwrap();
        let data = outer.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(outer.path().join("secret.json"), "{}").unwrap();
        std::os::unix::fs::symlink(outer.path().join("secret.json"), data.join("link.json"))
            .unwrap();
        let err = FileAccess::Within(data).tokenizer("link.json").unwrap_err();
        assert!(err.contains("data dir"), "{err}");
    }
}
