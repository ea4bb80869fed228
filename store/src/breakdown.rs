//! A stage's `breakdown.json`: per agent, per placement label, per shard, and what happened.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use swarm_common::metrics::evalscope::PerfSummary;
use swarm_common::metrics::summary::RichSummary;

/// The file name.
pub const BREAKDOWN_JSON: &str = "breakdown.json";

/// EvalScope's summary and ours, of one agent or one label.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summaries {
    /// EvalScope's summary.
    pub evalscope: PerfSummary,
    /// Ours.
    pub summary: RichSummary,
}

/// The HTTP version answers came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpVersion {
    /// HTTP/1.1.
    #[serde(rename = "HTTP/1.1")]
    Http1,
    /// HTTP/2.
    #[serde(rename = "HTTP/2")]
    Http2,
}

impl HttpVersion {
    /// `HTTP/1.1` or `HTTP/2`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http1 => "HTTP/1.1",
            HttpVersion::Http2 => "HTTP/2",
        }
    }
}

/// How a shard's client (or an agent's shards together) reached the target.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Connections opened (warmup included).
    pub connections: u64,
    /// The HTTP version (None when no answer came).
    pub http: Option<HttpVersion>,
}

/// Prompts an agent pulled for one shard, as it reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetched {
    /// Bytes of `Prompts` replies received for the shard (0 when all were cached).
    pub bytes: u64,
    /// Prompts received (not found in the agent's cache).
    pub prompts: u64,
    /// Distinct prompts the shard sends.
    pub used: u64,
}

/// What one agent pulled for its shards' prompts in a stage.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptTransfer {
    /// Bytes of `Prompts` replies it received (what it had cached is not pulled again).
    pub received_bytes: u64,
    /// Prompts it received.
    pub received_prompts: u64,
    /// Bytes of the prompts its shards send, as JSON (each distinct prompt once per shard).
    pub slice_bytes: u64,
    /// Distinct prompts its shards send.
    pub slice_prompts: u64,
}

/// Why a shard ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ShardEnd {
    /// Still running when the stage ended.
    Running,
    /// Its request budget was sent.
    Count,
    /// Its time ran out.
    Duration,
    /// It was cancelled.
    Cancelled,
    /// The agent reported no reason.
    Unspecified,
    /// It failed.
    Failed {
        /// Why.
        reason: String,
    },
    /// Its agent was lost; its budget went to others.
    Lost,
}

/// The prompts a shard sends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliceRow {
    /// First prompt of the stage's order.
    pub start: u64,
    /// How many.
    pub count: u64,
    /// Their bytes, as JSON.
    pub bytes: u64,
}

/// One shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRow {
    /// Shard id.
    pub shard: String,
    /// The agent it ran on.
    pub agent: String,
    /// Its placement group.
    pub group: usize,
    /// How it ended.
    #[serde(flatten)]
    pub end: ShardEnd,
    /// Requests it was to send.
    pub planned: Option<u64>,
    /// Requests it reported.
    pub reported: u64,
    /// Its start skew, µs.
    pub start_skew_us: Option<i64>,
    /// Its prompts.
    pub prompts: SliceRow,
    /// What its agent pulled for them.
    pub fetched: Option<Fetched>,
    /// How it reached the target.
    pub link: Option<Link>,
    /// Its part of the stage's ramp (the stage's ramp, the split levels, its start offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<swarm_common::ramp::ShardRamp>,
}

/// Something that happened during a stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageEvent {
    /// Seconds since the stage's start instant.
    pub at_s: f64,
    /// What happened.
    pub what: String,
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    /// Per agent.
    pub agents: BTreeMap<String, Summaries>,
    /// Per placement label (`key=value`).
    pub labels: BTreeMap<String, Summaries>,
    /// Per shard, in assignment order.
    pub shards: Vec<ShardRow>,
    /// What happened (agent lost, re-assignment).
    pub events: Vec<StageEvent>,
    /// Per agent: the prompts it pulled against the bytes of its own prompts.
    pub prompts: BTreeMap<String, PromptTransfer>,
    /// Per agent: the connections its shards opened and the HTTP version answers came in.
    pub connections: BTreeMap<String, Link>,
}
