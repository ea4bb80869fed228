//! The run directory: `outputs/<run-id>/` with `perf/<workload>/<stage>/` below it.

use std::path::{Path, PathBuf};

/// A unique, sortable run id: `YYYYmmdd_HHMMSS_<name>` in UTC.
pub fn run_id(name: &str) -> String {
    run_id_at(name, time::OffsetDateTime::now_utc())
}

/// [`run_id`] at instant `t`.
fn run_id_at(name: &str, t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let clean = super::stage_files::keep_only(name, "-_");
    format!(
        "{:04}{:02}{:02}_{:02}{:02}{:02}_{clean}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The folder of one perf stage.
pub fn stage_dir(run_dir: &Path, workload: &str, stage: &str) -> PathBuf {
    run_dir.join("perf").join(workload).join(stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        let at = |secs: i64| {
            run_id_at(
                "x",
                time::OffsetDateTime::from_unix_timestamp(secs).expect("in range"),
            )
        };
        assert_eq!(at(0), "19700101_000000_x");
        assert_eq!(at(1_795_809_600), "20261127_200000_x");
        assert_eq!(at(951_782_400), "20000229_000000_x");
    }

    #[test]
    fn run_ids_are_safe_folder_names() {
        let id = run_id("my run/../x");
        assert!(!id.contains('/') && id.ends_with("my_run____x"), "{id}");
    }
}
