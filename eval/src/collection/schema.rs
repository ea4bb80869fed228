//! The collection schema (EvalScope's `CollectionSchema`): a named group of datasets and
//! sub-groups, nested to any depth, each entry with a weight relative to its siblings.
//!
//! ```yaml
//! name: qwen3
//! datasets:
//!   - name: English
//!     weight: 1
//!     datasets:
//!       - {name: mmlu_pro, weight: 1, task_type: exam, tags: [en]}
//!       - {name: mmlu_redux, weight: 1, task_type: exam, tags: [en], args: {subset_list: [anatomy]}}
//! ```
//!
//! An entry with `datasets` is a group; any other is a dataset. YAML or JSON; unknown fields are
//! rejected and every error names the file and the field path (and the line where the parser
//! knows it).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::sample::DatasetArgs;

/// Errors reading a schema or a collection file; they name the file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum CollectionError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The schema is not valid YAML/JSON or has a field of the wrong shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the parser said (with line and column) and the field path.
        message: String,
    },
    /// A field holds a value the schema does not allow.
    #[error("{path}: field `{field}`: {message}")]
    BadField {
        /// The file.
        path: PathBuf,
        /// Field path, e.g. `datasets[1].weight`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A line of a collection JSONL file is not a collection entry.
    #[error("{path}:{line}: field `{field}`: {message}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// One entry of a group, as written: a dataset, or (with `datasets`) a sub-group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaEntry {
    /// Dataset (benchmark) name, or the group's name.
    pub name: String,
    /// Weight relative to the siblings (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Task type in reports (datasets only).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task_type: String,
    /// Tags in reports (datasets only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Loading arguments: `subset_list`, `few_shot_num`, `local_path`, `extra_params`, ...
    /// (datasets only).
    #[serde(default)]
    pub args: DatasetArgs,
    /// Present: this entry is a group of these entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<Vec<SchemaEntry>>,
}

fn one() -> f64 {
    1.0
}

/// A parsed collection schema: the root group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionSchema {
    /// The collection's name (the root of every dataset's hierarchy).
    pub name: String,
    /// Ignored at the root (EvalScope keeps it for nesting).
    #[serde(default = "one")]
    pub weight: f64,
    /// Datasets and sub-groups.
    pub datasets: Vec<SchemaEntry>,
}

impl CollectionSchema {
    /// Parses a schema from YAML or JSON `text`; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, CollectionError> {
        let de = serde_norway::Deserializer::from_str(text);
        let schema: CollectionSchema =
            serde_path_to_error::deserialize(de).map_err(|e| CollectionError::Parse {
                path: path.to_owned(),
                message: format!("field `{}`: {}", e.path(), e.inner()),
            })?;
        schema.check(path)?;
        Ok(schema)
    }

    /// Reads and parses the schema file at `path`.
    pub fn read(path: &Path) -> Result<Self, CollectionError> {
        let text = std::fs::read_to_string(path).map_err(|source| CollectionError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks names are non-empty, weights finite and positive, groups non-empty, and that
    /// dataset-only fields are not set on groups.
    fn check(&self, path: &Path) -> Result<(), CollectionError> {
        let bad = |field: String, message: String| CollectionError::BadField {
            path: path.to_owned(),
            field,
            message,
        };
        if self.name.trim().is_empty() {
            return Err(bad("name".into(), "must not be empty".into()));
        }
        if self.datasets.is_empty() {
            return Err(bad(
                "datasets".into(),
                "must list at least one entry".into(),
            ));
        }
        fn walk(
            entries: &[SchemaEntry],
            prefix: &str,
            bad: &dyn Fn(String, String) -> CollectionError,
            depth: usize,
        ) -> Result<(), CollectionError> {
            if depth > 64 {
                return Err(bad(
                    prefix.to_owned(),
                    "nested deeper than 64 levels".into(),
                ));
            }
            for (i, e) in entries.iter().enumerate() {
                let at = format!("{prefix}[{i}]");
                if e.name.trim().is_empty() {
                    return Err(bad(format!("{at}.name"), "must not be empty".into()));
                }
                if !(e.weight.is_finite() && e.weight > 0.0) {
                    return Err(bad(
                        format!("{at}.weight"),
                        format!("must be a number > 0, got {}", e.weight),
                    ));
                }
                if let Some(children) = &e.datasets {
                    if children.is_empty() {
                        return Err(bad(
                            format!("{at}.datasets"),
                            "a group must list at least one entry".into(),
                        ));
                    }
                    if !e.task_type.is_empty()
                        || !e.tags.is_empty()
                        || e.args != DatasetArgs::default()
                    {
                        return Err(bad(
                            at,
                            "a group (an entry with `datasets`) takes no task_type, tags or args"
                                .into(),
                        ));
                    }
                    walk(children, &format!("{at}.datasets"), bad, depth + 1)?;
                }
            }
            Ok(())
        }
        walk(&self.datasets, "datasets", &bad, 0)
    }
}
