//! The swarmbench agent: the executors that run a shard of load against an endpoint (through
//! `swarm_io::client`), and the session that takes shards from a coordinator and streams their
//! measurements and scored samples back.

pub mod cli;
pub mod perf;
pub mod session;
pub mod transport;
