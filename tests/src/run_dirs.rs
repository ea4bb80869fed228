//! A run folder's parts as the end-to-end tests find them, and `coordinator perf` run in-process:
//! one copy of what each perf test used to repeat.

use std::path::{Path, PathBuf};

use clap::Parser;
use swarm_coordinator::cli::Cli;
use tokio_util::sync::CancellationToken;

/// Runs `coordinator perf <args>` in this process, as the binary would.
pub async fn perf_cli<S: AsRef<str>>(args: &[S]) -> anyhow::Result<()> {
    let mut argv = vec!["coordinator".to_string(), "perf".to_string()];
    argv.extend(args.iter().map(|a| a.as_ref().to_string()));
    let cli = Cli::try_parse_from(argv)?;
    swarm_coordinator::run(cli, CancellationToken::new()).await
}

/// The folders in `dir`, sorted by name.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The one folder in `dir`.
pub fn only_subdir(dir: &Path) -> PathBuf {
    let mut dirs = subdirs(dir);
    assert_eq!(dirs.len(), 1, "one folder in {}: {dirs:?}", dir.display());
    dirs.remove(0)
}

/// The one stage folder of the one perf workload of the one run under `outputs`.
pub fn only_stage(outputs: &Path) -> PathBuf {
    let run = only_subdir(outputs);
    let workload = only_subdir(&run.join("perf"));
    only_subdir(&workload)
}

/// The run folder of workload `name` under `outputs` (the one whose id ends with `_<name>`).
pub fn run_of(outputs: &Path, name: &str) -> PathBuf {
    subdirs(outputs)
        .into_iter()
        .find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.ends_with(&format!("_{name}")))
        })
        .unwrap_or_else(|| panic!("no run of {name} in {}", outputs.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stage_walks_run_perf_workload_stage_and_ignores_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let stage = dir.path().join("20261207_w/perf/w/parallel_1_number_2");
        std::fs::create_dir_all(&stage).expect("mkdir");
        std::fs::write(dir.path().join("20261207_w/run.json"), "{}").expect("file");
        std::fs::write(dir.path().join("20261207_w/perf/w/overview.csv"), "").expect("file");
        assert_eq!(only_stage(dir.path()), stage);
        assert_eq!(run_of(dir.path(), "w"), dir.path().join("20261207_w"));
    }

    #[test]
    #[should_panic(expected = "one folder in")]
    fn two_folders_are_not_one() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(dir.path().join("a")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("b")).expect("mkdir");
        only_subdir(dir.path());
    }
}
