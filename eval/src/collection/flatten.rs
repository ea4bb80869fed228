//! Flattening a schema into its datasets with absolute weights (EvalScope's
//! `CollectionSchema.flatten`): within each group a child's weight is its share of its siblings'
//! weights times the group's own absolute weight, so the leaves' weights sum to 1; the root's
//! own weight is ignored. Each dataset also gets its hierarchy: the names of the groups that
//! hold it, root first.

use serde::{Deserialize, Serialize};

use super::schema::{CollectionSchema, SchemaEntry};
use crate::sample::DatasetArgs;

/// One dataset of a flattened schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlatDataset {
    /// Benchmark name.
    pub name: String,
    /// Absolute weight (the leaves of a schema sum to 1).
    pub weight: f64,
    /// Task type.
    pub task_type: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Loading arguments.
    pub args: DatasetArgs,
    /// Names of the enclosing groups, root first.
    pub hierarchy: Vec<String>,
    /// Where it sits in the schema file, e.g. `datasets[0].datasets[2]`.
    pub field: String,
}

/// The datasets of `schema` in schema order, weights normalised level by level.
pub fn flatten(schema: &CollectionSchema) -> Vec<FlatDataset> {
    let mut out = Vec::new();
    walk(
        &schema.datasets,
        1.0,
        std::slice::from_ref(&schema.name),
        "datasets",
        &mut out,
    );
    out
}

fn walk(
    entries: &[SchemaEntry],
    base: f64,
    hierarchy: &[String],
    prefix: &str,
    out: &mut Vec<FlatDataset>,
) {
    let total: f64 = entries.iter().map(|e| e.weight).sum();
    for (i, e) in entries.iter().enumerate() {
        let weight = if total > 0.0 {
            e.weight / total * base
        } else {
            0.0
        };
        let field = format!("{prefix}[{i}]");
        match &e.datasets {
            Some(children) => {
                let mut inner = hierarchy.to_vec();
                inner.push(e.name.clone());
                walk(children, weight, &inner, &format!("{field}.datasets"), out);
            }
            None => out.push(FlatDataset {
                name: e.name.clone(),
                weight,
                task_type: e.task_type.clone(),
                tags: e.tags.clone(),
                args: e.args.clone(),
                hierarchy: hierarchy.to_vec(),
                field,
            }),
        }
    }
}
