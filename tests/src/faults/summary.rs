//! What a stage reported, read back from its `summary.json`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;

/// The counts of one stage.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Requests measured.
    pub total: u64,
    /// Succeeded.
    pub success: u64,
    /// Failed.
    pub failed: u64,
    /// Failures by error class.
    pub errors: BTreeMap<String, u64>,
}

impl Counts {
    /// Reads `summary.json`.
    pub fn read(path: &Path) -> anyhow::Result<Counts> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let errors = v
            .get("errors")
            .and_then(serde_json::Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, c)| c.as_u64().map(|c| (k.clone(), c)))
                    .filter(|(_, c)| *c > 0)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Counts {
            total: n("total"),
            success: n("success"),
            failed: n("failed"),
            errors,
        })
    }

    /// `total=… ok=… {class: n}` for the table.
    pub fn describe(&self) -> String {
        let errs: Vec<String> = self
            .errors
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        format!(
            "total {} = ok {} + failed {}{}",
            self.total,
            self.success,
            self.failed,
            if errs.is_empty() {
                String::new()
            } else {
                format!(" ({})", errs.join(", "))
            }
        )
    }
}
