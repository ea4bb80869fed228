//! The plan's JSON Schema, generated from the plan model; published as
//! `docs/schemas/plan.schema.json` for editors and CI checks of plan files.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use super::model::Plan;

/// The schema's `$id`, beside the other published schemas.
pub const PLAN_SCHEMA_ID: &str = "https://swarmbench.dev/schemas/plan.schema.json";

/// The JSON Schema (draft 2020-12) of a plan file after `${VAR}` substitution. It checks shape
/// and types; the rules that span fields (url or sim, known targets, splittable stages) are
/// `parse_plan`'s.
pub fn plan_schema() -> Value {
    let generated = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Plan>()
        .to_value();
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        "https://json-schema.org/draft/2020-12/schema".into(),
    );
    out.insert("$id".into(), PLAN_SCHEMA_ID.into());
    out.insert(
        "title".into(),
        "plan.yaml: a swarmbench run plan (version 1)".into(),
    );
    if let Value::Object(fields) = generated {
        for (k, v) in fields {
            if !out.contains_key(&k) {
                out.insert(k, v);
            }
        }
    }
    Value::Object(out)
}
