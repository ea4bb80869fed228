//! Plans: the versioned YAML file that says what a run measures.

pub mod build;
pub mod env;
pub mod flags;
pub mod load;
pub mod model;
pub mod multi_turn;
pub mod placement;
pub mod schema;
pub mod topology;

pub use load::{PlanError, check, load_plan, parse_plan};
pub use model::Plan;
pub use placement::Placement;
pub use schema::plan_schema;
pub use topology::{AgentToken, AgentsConfig, ListenConfig, TlsPaths};
