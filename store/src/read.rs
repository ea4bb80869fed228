//! Reading a run folder's JSON files back into their types: a missing file is `None`, anything
//! else that is wrong is an error naming the file and the field.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// Parses `text` (from `path`) as a `T`, naming the field at fault.
pub fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> anyhow::Result<T> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de)
        .map_err(|e| anyhow::anyhow!("{}: at {}: {}", path.display(), e.path(), e.inner()))
}

/// The file at `path` as a `T`; None when there is no such file.
pub fn optional<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Option<T>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The last part of `p` (a run id, workload or model folder), lossily as text.
pub fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sub-folders of `dir`, sorted by name (none when `dir` is missing).
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    entries(dir, |p| p.is_dir())
}

/// The files of `dir` named `*.<ext>`, sorted (none when it cannot be read).
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    entries(dir, |p| p.extension().is_some_and(|e| e == ext))
}

fn entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| keep(p))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}
