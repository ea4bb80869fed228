//! The plan `perf` and `eval` make of their flags: one workload against one target (`--url`
//! or the built-in simulator), on `--agents` in-process agents.

use std::collections::BTreeMap;
use std::path::Path;

use swarm_common::shard::Secret;

use super::model::{
    AgentsDef, DEFAULT_HEARTBEAT_TIMEOUT_S, DEFAULT_WAIT_S, OutputsDef, Plan, TargetDef,
    TimeoutsDef, WorkloadDef,
};
use crate::transport_args::TransportArgs;

/// The name of the one target.
pub const TARGET: &str = "target";

/// The target at `url`, or the built-in simulator when there is none.
pub fn target(
    url: Option<&str>,
    model: &str,
    api_key: Option<&str>,
    timeouts: TimeoutsDef,
    transport: &TransportArgs,
    test_connection: bool,
) -> TargetDef {
    TargetDef {
        name: TARGET.into(),
        url: url.map(str::to_string),
        sim: url.is_none().then(llm_sim::SimConfig::default),
        model: Some(model.to_string()),
        api: None,
        api_key: api_key.map(|k| Secret(k.to_string())),
        api_key_env: None,
        api_key_file: None,
        headers: BTreeMap::new(),
        timeouts,
        test_connection,
        http2: transport.http2,
        http2_connections: transport.http2_connections,
        http2_max_streams: transport.http2_max_streams,
        tls_ca: transport.tls_ca.clone(),
    }
}

impl Plan {
    /// A plan of one `workload` against `target` on `agents` in-process agents, into `outputs`.
    pub fn of_flags(
        name: &str,
        agents: u32,
        target: TargetDef,
        workload: WorkloadDef,
        outputs: &Path,
    ) -> Plan {
        Plan {
            version: 1,
            name: name.to_string(),
            agents: Some(AgentsDef {
                local_agents: Some(agents),
                min_agents: 0,
                wait_s: DEFAULT_WAIT_S,
                selector: BTreeMap::new(),
                heartbeat_timeout_s: DEFAULT_HEARTBEAT_TIMEOUT_S,
            }),
            coordinator: None,
            targets: vec![target],
            workloads: vec![workload],
            outputs: OutputsDef {
                dir: outputs.to_path_buf(),
            },
        }
    }
}
