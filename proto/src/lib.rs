//! The gRPC contract between the coordinator and its agents (`swarm.v1`).
#![allow(clippy::all, missing_docs)]
tonic::include_proto!("swarm.v1");

/// The largest message either end sends or accepts, in bytes, on every stream and call of the
/// protocol (set as tonic's encode and decode limits on both ends). Datasets never travel in one
/// message: see `PromptsRequest`.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The protocol version both ends speak (`Hello.protocol`); a coordinator refuses any other.
/// 2: prompts travel as slices pulled with `Prompts`, pre-flight `Probe`s, connection counts.
/// 3: per-request records travel as typed `Record`s in `RecordBatch.records`, no longer as JSON
/// lines.
pub const PROTOCOL_VERSION: u32 = 3;
