//! Plans: the versioned YAML file that says what a run measures.

pub mod build;
pub mod env;
pub mod load;
pub mod model;

pub use load::{PlanError, load_plan, parse_plan};
pub use model::Plan;
