//! The swarm-agent integration suite: one test binary for every file here.

mod multi_turn_shard;
mod ramp_shard;
mod session_cancel;
mod session_fake;
mod session_reconnect;
mod session_shard;
mod session_tls;
mod stream_shapes;
mod support;
