//! The coordinator's side of the agent protocol: the gRPC service agents dial, the registry of
//! connected agents, authentication, and the in-process agents of a local run.

pub mod auth;
pub mod local;
pub mod prompt_set;
pub mod registry;
pub mod server;
pub mod service;

pub use local::LocalAgents;
pub use prompt_set::{PromptSet, PromptSets};
pub use registry::{AgentInfo, ClusterEvent, Registry};
pub use server::{Cluster, ClusterConfig, ServerTls};
