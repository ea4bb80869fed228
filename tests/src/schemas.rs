//! Validation of output files against the published JSON Schemas in `docs/schemas/`.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schemas")
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Validates `instance` against `docs/schemas/<name>`; returns every violation.
pub fn violations(name: &str, instance: &Value) -> Vec<String> {
    let dir = schema_dir();
    let mut opts = jsonschema::options();
    for entry in std::fs::read_dir(&dir).expect("schema dir") {
        let path = entry.expect("entry").path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default()
            .to_string();
        let resource = jsonschema::Resource::from_contents(read(&path)).expect("schema resource");
        opts = opts.with_resource(format!("https://swarmbench.dev/schemas/{file}"), resource);
    }
    let validator = opts.build(&read(&dir.join(name))).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    read(path)
}
