//! Where a workload runs: `placement: split` (one workload divided across every selected
//! agent) or `placement: {per_label: region}` (the whole workload once per distinct value of
//! that label, side by side).

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a workload is placed on the agents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Placement {
    /// Divide the workload across all selected agents (users, rate and requests by capacity).
    #[default]
    Split,
    /// Run the whole workload once per distinct value of this agent label, side by side; each
    /// group of agents sharing a value splits its copy.
    PerLabel(String),
}

const SPLIT: &str = "split";
const PER_LABEL: &str = "per_label";

impl Serialize for Placement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Placement::Split => s.serialize_str(SPLIT),
            Placement::PerLabel(label) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(PER_LABEL, label)?;
                m.end()
            }
        }
    }
}

struct PlacementVisitor;

impl<'de> Visitor<'de> for PlacementVisitor {
    type Value = Placement;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`split` or `{per_label: LABEL}`")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Placement, E> {
        if v == SPLIT {
            Ok(Placement::Split)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Placement, A::Error> {
        let mut label = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != PER_LABEL {
                return Err(de::Error::unknown_field(&key, &[PER_LABEL]));
            }
            if label.is_some() {
                return Err(de::Error::duplicate_field(PER_LABEL));
            }
            label = Some(map.next_value::<String>()?);
        }
        label
            .map(Placement::PerLabel)
            .ok_or_else(|| de::Error::missing_field(PER_LABEL))
    }
}

impl<'de> Deserialize<'de> for Placement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Placement, D::Error> {
        d.deserialize_any(PlacementVisitor)
    }
}

impl JsonSchema for Placement {
    fn schema_name() -> Cow<'static, str> {
        "Placement".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Where the workload runs: `split` divides it across every selected agent; `{per_label: LABEL}` runs the whole workload once per distinct value of that agent label, side by side.",
            "oneOf": [
                {"const": SPLIT},
                {
                    "type": "object",
                    "properties": {PER_LABEL: {"type": "string", "minLength": 1}},
                    "required": [PER_LABEL],
                    "additionalProperties": false
                }
            ]
        })
    }
}
