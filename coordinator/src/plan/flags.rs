//! The plan `perf` and `eval` make of their flags: one workload against one target (`--url`
//! or the built-in simulator), on `--agents` in-process agents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use swarm_common::shard::Secret;

use super::model::{
    AgentsDef, DEFAULT_HEARTBEAT_TIMEOUT_S, DEFAULT_WAIT_S, OutputsDef, Plan, TargetDef,
    TimeoutsDef, WorkloadDef,
};
use crate::transport_args::TransportArgs;

/// The name of the one target.
pub const TARGET: &str = "target";

/// `--<flag>`'s JSON object (empty when not given).
pub fn json_object(
    flag: &str,
    text: Option<&str>,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    match text.map(serde_json::from_str::<serde_json::Value>) {
        None => Ok(serde_json::Map::new()),
        Some(Ok(serde_json::Value::Object(m))) => Ok(m),
        Some(Ok(other)) => anyhow::bail!("--{flag} must be a JSON object, got {other}"),
        Some(Err(e)) => anyhow::bail!(
            "--{flag} is not valid JSON ({e}): {}",
            text.unwrap_or_default()
        ),
    }
}

/// The flags `perf` and `eval` share.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Bearer token (also from $SWARM_API_KEY); never printed or written.
    #[arg(long, env = "SWARM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Where runs are written.
    #[arg(long, default_value = "outputs")]
    pub outputs_dir: PathBuf,
    /// In-process agents the work is split over (each an independent client).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub agents: u32,
    /// Skip the pre-flight check (one tiny request from an agent before the run; on failure
    /// the command stops with exit status 3 and says why).
    #[arg(long)]
    pub no_test_connection: bool,
    /// How agents connect to the target.
    #[command(flatten)]
    pub transport: TransportArgs,
}

/// The target at `url`, or the built-in simulator when there is none.
pub fn target(
    url: Option<&str>,
    model: &str,
    timeouts: TimeoutsDef,
    common: &CommonArgs,
) -> TargetDef {
    let transport = &common.transport;
    TargetDef {
        name: TARGET.into(),
        url: url.map(str::to_string),
        sim: url.is_none().then(llm_sim::SimConfig::default),
        model: Some(model.to_string()),
        api: None,
        api_key: common.api_key.clone().map(Secret),
        api_key_env: None,
        api_key_file: None,
        headers: BTreeMap::new(),
        timeouts,
        test_connection: !common.no_test_connection,
        http2: transport.http2,
        http2_connections: transport.http2_connections,
        http2_max_streams: transport.http2_max_streams,
        tls_ca: transport.tls_ca.clone(),
    }
}

impl Plan {
    /// A plan of one `workload` against `target` on the flags' in-process agents, into their
    /// outputs folder.
    pub fn of_flags(
        name: &str,
        common: &CommonArgs,
        target: TargetDef,
        workload: WorkloadDef,
    ) -> Plan {
        Plan {
            version: 1,
            name: name.to_string(),
            agents: Some(AgentsDef {
                local_agents: Some(common.agents),
                min_agents: 0,
                wait_s: DEFAULT_WAIT_S,
                selector: BTreeMap::new(),
                heartbeat_timeout_s: DEFAULT_HEARTBEAT_TIMEOUT_S,
            }),
            coordinator: None,
            targets: vec![target],
            workloads: vec![workload],
            outputs: OutputsDef {
                dir: common.outputs_dir.clone(),
            },
        }
    }
}
