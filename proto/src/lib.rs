//! The gRPC contract between the coordinator and its agents (`swarm.v1`).
#![allow(clippy::all, missing_docs)]
tonic::include_proto!("swarm.v1");
