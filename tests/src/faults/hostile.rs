//! Hostile peers (issue 17): an endpoint that answers with an event-stream line that never ends
//! or a body that never ends, an agent that speaks the protocol to cheat or to break the
//! coordinator, and a run that asks an agent to run model-written code without isolation. Each
//! must be contained: classified or refused, with nothing already measured lost.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use llm_sim::{Dist, SimConfig};
use swarm_proto::agent_message::Msg;
use swarm_proto::coordinator_message::Msg as CMsg;
use swarm_proto::{
    AgentMessage, Counters, Heartbeat, Hello, Hist, ScoredSamples, ShardProgress, Snapshot,
};
use tokio_util::sync::CancellationToken;

use super::Row;
use super::agents::{breakdown_events, event_texts, read_breakdown};
use super::grpc::{RawSender, RawSession};
use super::procs::{files_under, free_port, run_plan, start_agent, summaries, wait_listening};
use super::summary::Counts;

/// Requests of a hostile-endpoint stage; every fourth measured request gets the hostile answer.
const ENDPOINT_N: u64 = 40;
/// The peak RSS an agent may reach while cut-off answers stream at it.
const RSS_BOUND: u64 = 256 << 20;
/// Requests of the hostile-agent perf stage.
const AGENT_N: u64 = 1200;
/// Records of the gsm8k fixture × repeats in the hostile-agent eval.
const EVAL_RECORDS: usize = 20;
const EVAL_REPEATS: usize = 2;
const TOKEN: &str = "fault-matrix-token-0123456789abcdef";

/// Runs every hostile row under `dir`; `gsm8k` is the fixture's test file.
pub async fn run(dir: &Path, gsm8k: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    for kind in [Endless::Line, Endless::Body] {
        let d = dir.join(format!("hostile-{}", kind.slug()));
        rows.push(
            tokio::task::spawn_blocking(move || endpoint_row(kind, &d))
                .await
                .unwrap_or_else(|e| {
                    Row::broken(
                        "hostile",
                        kind.injected(),
                        "",
                        &anyhow::anyhow!("the scenario panicked: {e}"),
                    )
                }),
        );
    }
    rows.push(agent_perf_row(&dir.join("hostile-agent-perf")).await);
    rows.push(agent_eval_row(&dir.join("hostile-agent-eval"), gsm8k).await);
    rows.push(unsandboxed_row(&dir.join("hostile-unsandboxed"), gsm8k).await);
    rows
}

/// A scenario folder, emptied of what an earlier invocation left.
fn fresh(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("token"), TOKEN)?;
    Ok(())
}

// ---- a hostile endpoint ----

#[derive(Debug, Clone, Copy)]
enum Endless {
    /// `data: xxxx…` with no end of line, streaming.
    Line,
    /// A non-streaming body announced as 100 GB.
    Body,
}

impl Endless {
    fn slug(self) -> &'static str {
        match self {
            Endless::Line => "sse-line",
            Endless::Body => "body",
        }
    }

    fn injected(self) -> &'static str {
        match self {
            Endless::Line => {
                "endpoint: every 4th answer an event-stream line that never ends (64 MiB of `data: xxx…`, no newline)"
            }
            Endless::Body => {
                "endpoint: every 4th answer a non-streaming body that never ends (content-length 100 GB, 64 MiB sent)"
            }
        }
    }

    fn head(self) -> &'static str {
        match self {
            Endless::Line => {
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: "
            }
            Endless::Body => {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000000000\r\nconnection: close\r\n\r\n{\"x\":\""
            }
        }
    }

    /// A complete, small answer of the same kind.
    fn benign(self) -> String {
        let (ctype, body) = match self {
            Endless::Line => (
                "text/event-stream",
                concat!(
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\n",
                    "data: [DONE]\n\n"
                )
                .to_owned(),
            ),
            Endless::Body => (
                "application/json",
                "{\"id\":\"c\",\"object\":\"chat.completion\",\"created\":0,\"model\":\"sim-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}".to_owned(),
            ),
        };
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }
}

/// The hostile server: one thread per connection, blocking IO.
struct Server {
    port: u16,
    hostile: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Server {
    fn start(kind: Endless) -> anyhow::Result<Self> {
        let l = TcpListener::bind("127.0.0.1:0")?;
        let port = l.local_addr()?.port();
        let hostile = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, st) = (hostile.clone(), stop.clone());
        std::thread::spawn(move || {
            for s in l.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(s) = s else { continue };
                let h = h.clone();
                std::thread::spawn(move || serve(s, kind, &h));
            }
        });
        Ok(Self {
            port,
            hostile,
            stop,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // wake the accept loop so it sees the flag
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads one request and answers it: the endless answer for measured requests whose index
/// (`x-request-id: <shard>-<index>`) is 3 mod 4, a complete one otherwise.
fn serve(mut s: TcpStream, kind: Endless, hostile: &AtomicU64) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    let mut req = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let head_end = loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        req.extend_from_slice(&buf[..n]);
        if let Some(p) = find(&req, b"\r\n\r\n") {
            break p + 4;
        }
        if req.len() > 1 << 20 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&req[..head_end]).into_owned();
    let body_len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while req.len() < head_end + body_len {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let is_hostile = header(&head, "x-request-id")
        .and_then(|id| id.rsplit('-').next())
        .and_then(|i| i.parse::<u64>().ok())
        .is_some_and(|i| i % 4 == 3);
    if !is_hostile {
        let _ = s.write_all(kind.benign().as_bytes());
        return;
    }
    hostile.fetch_add(1, Ordering::Relaxed);
    if s.write_all(kind.head().as_bytes()).is_err() {
        return;
    }
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..1024 {
        if s.write_all(&chunk).is_err() {
            return;
        }
    }
}

/// Peak resident set (VmHWM) of `pid`, bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / f64::from(1 << 20))
}

fn endpoint_row(kind: Endless, dir: &Path) -> Row {
    let expected = format!(
        "all {ENDPOINT_N} requests counted once: each endless answer as too_large (cut at the 1 MiB line / 16 MiB body bound), the rest ok, no other class; agent peak RSS < {}",
        mib(RSS_BOUND)
    );
    match endpoint_one(kind, dir) {
        Ok(o) => {
            let c = &o.counts;
            let too_large = c.errors.get("too_large").copied().unwrap_or(0);
            let only = c.errors.keys().all(|k| k == "too_large");
            let whole = c.total == ENDPOINT_N && c.success + c.failed == ENDPOINT_N;
            let pass = whole
                && only
                && o.hostile > 0
                && too_large == o.hostile
                && c.success == ENDPOINT_N - o.hostile
                && o.peak > 0
                && o.peak < RSS_BOUND
                && o.code == Some(0);
            Row {
                group: "hostile",
                injected: kind.injected().to_owned(),
                expected,
                observed: format!(
                    "exit {:?}; {}; endless answers sent {}; agent peak RSS {}",
                    o.code,
                    c.describe(),
                    o.hostile,
                    mib(o.peak)
                ),
                lost: if whole {
                    "nothing".to_owned()
                } else {
                    format!("{} requests", ENDPOINT_N.saturating_sub(c.total))
                },
                agent_loss: None,
                pass,
            }
        }
        Err(e) => Row::broken("hostile", kind.injected(), &expected, &e),
    }
}

struct EndpointOutcome {
    counts: Counts,
    hostile: u64,
    peak: u64,
    code: Option<i32>,
}

fn endpoint_one(kind: Endless, dir: &Path) -> anyhow::Result<EndpointOutcome> {
    fresh(dir)?;
    let server = Server::start(kind)?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-endpoint
agents: {{min_agents: 1, wait_s: 30}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: hostile
    url: http://127.0.0.1:{}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 30, total_s: 60}}
workloads:
  - name: load
    perf:
      target: hostile
      stream: {}
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 32}}
      max_tokens: 16
      stages:
        - {{parallel: 4, number: {ENDPOINT_N}}}
outputs: {{dir: out}}
"#,
            server.port,
            matches!(kind, Endless::Line)
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let agent = start_agent(dir, port, "a1", &dir.join("token"))?;
    let pid = agent.pid();
    let mut peak = 0;
    let until = std::time::Instant::now() + Duration::from_secs(180);
    let code = loop {
        if let Some(p) = peak_rss(pid) {
            peak = peak.max(p);
        }
        if let Some(code) = coord.wait_for(Duration::from_millis(20))? {
            break Some(code);
        }
        if std::time::Instant::now() >= until {
            break None;
        }
    };
    drop(agent);
    anyhow::ensure!(code.is_some(), "the coordinator did not finish");
    let files = summaries(&dir.join("out"));
    let summary = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    Ok(EndpointOutcome {
        counts: Counts::read(summary)?,
        hostile: server.hostile.load(Ordering::Relaxed),
        peak,
        code,
    })
}

// ---- a hostile agent ----

fn hello(id: &str) -> AgentMessage {
    AgentMessage {
        msg: Some(Msg::Hello(Hello {
            agent_id: id.to_owned(),
            capacity: 1,
            protocol: swarm_proto::PROTOCOL_VERSION,
            version: "hostile".to_owned(),
            ..Default::default()
        })),
    }
}

/// `shard` with its last path segment replaced by `i` (`load/p/2` → `load/p/<i>`).
fn sibling(shard: &str, i: usize) -> String {
    match shard.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{i}"),
        None => format!("{shard}/{i}"),
    }
}

/// A delta that would add 500 successful requests wherever it was applied.
fn inflating() -> Snapshot {
    Snapshot {
        hists: Vec::new(),
        counters: Some(Counters {
            total: 500,
            success: 500,
            ..Default::default()
        }),
    }
}

/// A prediction line claiming full marks.
fn prediction(sample_id: &str, repeat: u32) -> Vec<u8> {
    let p = serde_json::json!({
        "benchmark": "gsm8k", "subset": "main", "sample_id": sample_id, "repeat": repeat,
        "completion": "The answer is \\boxed{999999}", "reasoning": "",
        "extracted": "999999",
        "score": {"extracted": "999999", "values": {"acc": 1.0}, "main": "acc"},
        "prompt_tokens": 1, "completion_tokens": 1, "reasoning_tokens": 0, "latency_us": 1
    });
    let mut line = p.to_string().into_bytes();
    line.push(b'\n');
    line
}

/// What the hostile agent sent.
#[derive(Debug, Default, Clone)]
struct Sent {
    foreign: u64,
    /// For a shard id no session holds.
    unknown: u64,
    unleased: u64,
    undecodable: u64,
}

/// Joins as `rogue`, heartbeats, and on its first assignment plays what `on_assign` makes of
/// it; returns what it sent once the coordinator ends the call.
async fn rogue(
    port: u16,
    on_assign: fn(&swarm_proto::Assign) -> Vec<Step>,
) -> anyhow::Result<Sent> {
    let mut s = RawSession::open(port, TOKEN).await?;
    s.tx.send(&hello("rogue")).await?;
    let beat = s.tx.clone();
    let heart = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let hb = AgentMessage {
                msg: Some(Msg::Heartbeat(Heartbeat {
                    agent_unix_us: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_micros() as u64)
                        .unwrap_or(0),
                    shards_running: 1,
                })),
            };
            if beat.send(&hb).await.is_err() {
                break;
            }
        }
    });
    let mut sent = Sent::default();
    let mut acted = false;
    let mut refused = None;
    while let Some(m) = s.inbound.recv().await {
        match m.msg {
            Some(CMsg::Refused(r)) => {
                refused = Some(r.reason);
                break;
            }
            Some(CMsg::Assign(a)) if !acted => {
                acted = true;
                for step in on_assign(&a) {
                    play(&s.tx, step, &mut sent).await;
                }
            }
            _ => {}
        }
    }
    heart.abort();
    match refused {
        Some(reason) => anyhow::bail!("the rogue was refused: {reason}"),
        None => Ok(sent),
    }
}

/// One hostile act.
enum Step {
    Foreign(AgentMessage),
    Unknown(AgentMessage),
    Unleased(AgentMessage),
    Undecodable(AgentMessage),
    Garbage(Vec<u8>),
    Pause(Duration),
}

async fn play(tx: &RawSender, step: Step, sent: &mut Sent) {
    let r = match step {
        Step::Foreign(m) => {
            sent.foreign += 1;
            tx.send(&m).await
        }
        Step::Unknown(m) => {
            sent.unknown += 1;
            tx.send(&m).await
        }
        Step::Unleased(m) => {
            sent.unleased += 1;
            tx.send(&m).await
        }
        Step::Undecodable(m) => {
            sent.undecodable += 1;
            tx.send(&m).await
        }
        Step::Garbage(b) => {
            sent.undecodable += 1;
            tx.send_raw(&b).await
        }
        Step::Pause(d) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
    };
    let _ = r;
}

/// Perf: deltas for the other agents' shards (and one no agent holds), predictions on a perf
/// shard, then a delta of its own whose histogram does not decode.
fn perf_acts(a: &swarm_proto::Assign) -> Vec<Step> {
    let mut steps = Vec::new();
    for i in 0..3 {
        let other = sibling(&a.shard_id, i);
        if other != a.shard_id {
            steps.push(Step::Foreign(progress(&other, inflating())));
        }
    }
    steps.push(Step::Unknown(progress(
        &sibling(&a.shard_id, 97),
        inflating(),
    )));
    steps.push(Step::Unleased(AgentMessage {
        msg: Some(Msg::Scored(ScoredSamples {
            shard_id: a.shard_id.clone(),
            seq: 1,
            jsonl: prediction("main_0", 0),
        })),
    }));
    steps.push(Step::Pause(Duration::from_secs(1)));
    let mut bad = inflating();
    bad.counters = Some(Counters {
        total: 1,
        success: 1,
        ..Default::default()
    });
    bad.hists.push(Hist {
        metric: "latency".to_owned(),
        v2: b"\x1c\x84\x93\x03 not a histogram".to_vec(),
        high_outliers: 0,
        highest_outlier: 0,
    });
    steps.push(Step::Undecodable(progress(&a.shard_id, bad)));
    steps
}

fn progress(shard: &str, delta: Snapshot) -> AgentMessage {
    AgentMessage {
        msg: Some(Msg::Progress(ShardProgress {
            shard_id: shard.to_owned(),
            seq: 1,
            delta: Some(delta),
        })),
    }
}

/// Eval: predictions for items of its batch under another batch's id, predictions under its
/// own batch for items it was never leased (other repeats, a sample that does not exist), then
/// bytes that are no protobuf message at all.
fn eval_acts(a: &swarm_proto::Assign) -> Vec<Step> {
    let Some(swarm_proto::assign::Spec::EvalJson(json)) = &a.spec else {
        return Vec::new();
    };
    let Ok(spec) = serde_json::from_slice::<swarm_eval::task::EvalShardSpec>(json) else {
        return Vec::new();
    };
    let held: std::collections::BTreeSet<(String, u32)> =
        spec.items.iter().map(|(s, r)| (s.id.clone(), *r)).collect();
    let mut leased = Vec::new();
    for (id, r) in &held {
        leased.extend(prediction(id, *r));
    }
    // items of the run this batch does not hold (every (sample, repeat) of the fixture but its
    // own: ids are `<subset>_<n>`), and a sample that does not exist
    let mut own = Vec::new();
    if let Some((id, _)) = held.iter().next()
        && let Some((prefix, _)) = id.rsplit_once('_')
    {
        for n in 0..EVAL_RECORDS {
            for r in 0..EVAL_REPEATS as u32 {
                let item = (format!("{prefix}_{n}"), r);
                if !held.contains(&item) {
                    own.extend(prediction(&item.0, item.1));
                }
            }
        }
        own.extend(prediction(&format!("{id}_stranger"), 0));
    }
    let mut steps = Vec::new();
    for i in 0..3 {
        let other = sibling(&a.shard_id, i);
        if other != a.shard_id {
            steps.push(Step::Foreign(AgentMessage {
                msg: Some(Msg::Scored(ScoredSamples {
                    shard_id: other,
                    seq: 1,
                    jsonl: leased.clone(),
                })),
            }));
        }
    }
    steps.push(Step::Unleased(AgentMessage {
        msg: Some(Msg::Scored(ScoredSamples {
            shard_id: a.shard_id.clone(),
            seq: 1,
            jsonl: own,
        })),
    }));
    steps.push(Step::Pause(Duration::from_millis(500)));
    // field 1 (hello) as a length-delimited field 2^35 bytes long: no decoder can read it
    steps.push(Step::Garbage(vec![
        0x0a, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x01,
    ]));
    steps
}

fn sim_config() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.latency.ttft_ms = Dist::fixed(5.0);
    cfg.latency.itl_ms = Dist::fixed(2.0);
    cfg.output.default_max_tokens = 16;
    cfg
}

async fn start_sim() -> anyhow::Result<llm_sim::SimHandle> {
    llm_sim::start(
        sim_config(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        CancellationToken::new(),
    )
    .await
    .map_err(anyhow::Error::from)
}

async fn agent_perf_row(dir: &Path) -> Row {
    let injected = "agent: a process speaking the protocol sends deltas (+500 requests each) for the other agents' shards and one nobody holds, predictions on a perf shard, then an undecodable delta (histogram bytes that do not decode) for its own shard";
    let expected = format!(
        "stage completes with exactly {AGENT_N} requests, none twice; the foreign deltas ignored; the hostile agent dropped with an event and its budget re-assigned"
    );
    match agent_perf_one(dir).await {
        Ok((counts, events, texts, code, sent)) => {
            let whole = counts.total == AGENT_N && counts.success + counts.failed == AGENT_N;
            let said = |s: &str| texts.iter().any(|t| t.contains("rogue") && t.contains(s));
            let dropped = texts.iter().any(|t| {
                t.contains("agent rogue") && (t.contains("lost") || t.contains("cannot be merged"))
            });
            let reassigned = texts.iter().any(|t| t.contains("re-assigned"));
            Row {
                group: "hostile",
                injected: injected.to_owned(),
                expected,
                observed: format!(
                    "exit {code:?}; {}; sent {} deltas for other agents' shards, {} for a shard id nobody holds, {} predictions on a perf shard, {} undecodable delta; events: {events}",
                    counts.describe(),
                    sent.foreign,
                    sent.unknown,
                    sent.unleased,
                    sent.undecodable
                ),
                lost: if counts.total >= AGENT_N {
                    "nothing".to_owned()
                } else {
                    format!("{} requests", AGENT_N - counts.total)
                },
                agent_loss: None,
                pass: whole
                    && counts.failed == 0
                    && code == Some(0)
                    && sent.undecodable == 1
                    && said("ignored")
                    && dropped
                    && reassigned,
            }
        }
        Err(e) => Row::broken("hostile", injected, &expected, &e),
    }
}

type PerfOutcome = (Counts, String, Vec<String>, Option<i32>, Sent);

async fn agent_perf_one(dir: &Path) -> anyhow::Result<PerfOutcome> {
    fresh(dir)?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-agent
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: 2}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: load
    perf:
      target: sim
      dataset: {{kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 32}}
      max_tokens: 16
      stages:
        - {{parallel: 6, number: {AGENT_N}}}
outputs: {{dir: out}}
"#,
            sim.url()
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let token = dir.join("token");
    let _a1 = start_agent(dir, port, "a1", &token)?;
    let _a2 = start_agent(dir, port, "a2", &token)?;
    let rogue = tokio::spawn(rogue(port, perf_acts));
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    let sent = match tokio::time::timeout(Duration::from_secs(5), rogue).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => anyhow::bail!("the rogue task failed: {e}"),
        Err(_) => anyhow::bail!("the rogue's call outlived the coordinator"),
    };
    sim.shutdown().await;
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    let files = summaries(&dir.join("out"));
    let summary = files
        .first()
        .ok_or_else(|| anyhow::anyhow!("no summary.json (coordinator exit {code:?})"))?;
    let counts = Counts::read(summary)?;
    let breakdown = read_breakdown(&summary.with_file_name("breakdown.json"));
    let texts = event_texts(breakdown.as_ref());
    Ok((
        counts,
        breakdown_events(breakdown.as_ref()),
        texts,
        code,
        sent,
    ))
}

async fn agent_eval_row(dir: &Path, gsm8k: &Path) -> Row {
    let injected = "agent: a process speaking the protocol, leased an eval batch, files full-mark predictions under other batches' ids and for items it was never leased (other repeats, a sample that does not exist), then sends bytes that are no protobuf message";
    let total = EVAL_RECORDS * EVAL_REPEATS;
    let expected = format!(
        "eval completes; each of the {total} (sample, repeat) stored once, none from the hostile agent; the hostile agent dropped (logged) and its batch leased again"
    );
    match agent_eval_one(dir, gsm8k).await {
        Ok(o) => {
            let pass = o.code == Some(0)
                && o.lines == total
                && o.distinct == total
                && o.rogue_lines == 0
                && o.dropped > 0
                && o.sent.undecodable == 1;
            Row {
                group: "hostile",
                injected: injected.to_owned(),
                expected,
                observed: format!(
                    "exit {:?}; {} prediction lines, {} distinct, {} from the hostile agent; sent {} messages of predictions under other batches' ids, {} under its own batch for items it was not leased, {} undecodable message; coordinator log: {} warnings of ignored predictions, {}",
                    o.code,
                    o.lines,
                    o.distinct,
                    o.rogue_lines,
                    o.sent.foreign,
                    o.sent.unleased,
                    o.sent.undecodable,
                    o.ignored,
                    if o.dropped > 0 {
                        format!("agent rogue lost ({})", o.drop_line)
                    } else {
                        "no loss of agent rogue".to_owned()
                    }
                ),
                lost: if o.distinct >= total {
                    "nothing".to_owned()
                } else {
                    format!("{} predictions", total - o.distinct)
                },
                agent_loss: None,
                pass,
            }
        }
        Err(e) => Row::broken("hostile", injected, &expected, &e),
    }
}

struct EvalOutcome {
    code: Option<i32>,
    lines: usize,
    distinct: usize,
    rogue_lines: usize,
    ignored: usize,
    dropped: usize,
    drop_line: String,
    sent: Sent,
}

fn prediction_files(out: &Path) -> Vec<PathBuf> {
    files_under(out, |p| {
        p.components().any(|c| c.as_os_str() == "predictions")
            && p.extension().is_some_and(|x| x == "jsonl")
    })
}

async fn agent_eval_one(dir: &Path, gsm8k: &Path) -> anyhow::Result<EvalOutcome> {
    fresh(dir)?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-agent-eval
agents: {{min_agents: 3, wait_s: 30, heartbeat_timeout_s: 2}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: math
    eval:
      target: sim
      datasets: [gsm8k]
      dataset_args:
        gsm8k: {{local_path: "{}"}}
      generation_config: {{max_tokens: 16}}
      eval_batch_size: 6
      repeats: {EVAL_REPEATS}
outputs: {{dir: out}}
"#,
            sim.url(),
            gsm8k.display()
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let token = dir.join("token");
    let _a1 = start_agent(dir, port, "a1", &token)?;
    let _a2 = start_agent(dir, port, "a2", &token)?;
    let rogue = tokio::spawn(rogue(port, eval_acts));
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    let sent = match tokio::time::timeout(Duration::from_secs(5), rogue).await {
        Ok(Ok(r)) => r?,
        Ok(Err(e)) => anyhow::bail!("the rogue task failed: {e}"),
        Err(_) => anyhow::bail!("the rogue's call outlived the coordinator"),
    };
    sim.shutdown().await;
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    let mut lines = 0;
    let mut keys = std::collections::BTreeSet::new();
    let mut rogue_lines = 0;
    for f in prediction_files(&dir.join("out")) {
        let text = std::fs::read_to_string(&f)?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines += 1;
            if line.contains("999999") || line.contains("stranger") {
                rogue_lines += 1;
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let sw = &v["swarm"];
            keys.insert(format!("{}#{}", sw["sample_id"], sw["repeat"]));
        }
    }
    let log = std::fs::read_to_string(dir.join("coordinator.log")).unwrap_or_default();
    let rogue_log: Vec<&str> = log.lines().filter(|l| l.contains("rogue")).collect();
    let ignored = rogue_log.iter().filter(|l| l.contains("ignored")).count();
    let drops: Vec<&&str> = rogue_log
        .iter()
        .filter(|l| l.contains("lost") || l.contains("left") || l.contains("broke"))
        .collect();
    let drop_line = drops
        .first()
        .map(|l| {
            let msg = l.split_once(": ").map_or(**l, |(_, m)| m);
            msg.chars().take(200).collect::<String>()
        })
        .unwrap_or_default();
    Ok(EvalOutcome {
        code,
        lines,
        distinct: keys.len(),
        rogue_lines,
        ignored,
        dropped: drops.len(),
        drop_line,
        sent,
    })
}

// ---- code without isolation ----

async fn unsandboxed_row(dir: &Path, gsm8k: &Path) -> Row {
    let injected = "coordinator: a plan asks the agent to run model-written code without isolation (humaneval, sandbox_config.allow_unisolated: true); the agent was started without --allow-unisolated-code";
    let expected = "refused by the agent; the run fails and run.json and report.html say why (--allow-unisolated-code); no code run";
    match unsandboxed_one(dir, gsm8k).await {
        Ok(o) => Row {
            group: "hostile",
            injected: injected.to_owned(),
            expected: expected.to_owned(),
            observed: format!(
                "exit {:?}; run.json failure: {}; report.html says why: {}; predictions kept: {}",
                o.code,
                if o.failure.is_empty() {
                    "none".to_owned()
                } else {
                    o.failure.clone()
                },
                if o.in_report { "yes" } else { "no" },
                o.kept
            ),
            lost: "nothing (nothing was to be measured)".to_owned(),
            agent_loss: None,
            pass: o.code.is_some_and(|c| c != 0)
                && o.failure.contains("--allow-unisolated-code")
                && o.in_report
                && o.kept == 0,
        },
        Err(e) => Row::broken("hostile", injected, expected, &e),
    }
}

struct Unsandboxed {
    code: Option<i32>,
    failure: String,
    in_report: bool,
    kept: usize,
}

async fn unsandboxed_one(dir: &Path, gsm8k: &Path) -> anyhow::Result<Unsandboxed> {
    fresh(dir)?;
    let humaneval = gsm8k
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("humaneval"))
        .ok_or_else(|| anyhow::anyhow!("no humaneval fixture beside {}", gsm8k.display()))?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-unsandboxed
agents: {{min_agents: 1, wait_s: 30}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: code
    eval:
      target: sim
      datasets: [humaneval]
      dataset_args:
        humaneval: {{local_path: "{}", sandbox_config: {{allow_unisolated: true}}}}
      generation_config: {{max_tokens: 8}}
      limit: 2
outputs: {{dir: out}}
"#,
            sim.url(),
            humaneval.display()
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let _a1 = start_agent(dir, port, "a1", &dir.join("token"))?;
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    sim.shutdown().await;
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    let out = dir.join("out");
    let run_json = files_under(&out, |p| p.file_name().is_some_and(|n| n == "run.json"));
    let record: serde_json::Value = match run_json.first() {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?)?,
        None => serde_json::Value::Null,
    };
    let failure = record["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let report = files_under(&out, |p| p.file_name().is_some_and(|n| n == "report.html"));
    let in_report = report
        .first()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|h| h.contains("--allow-unisolated-code"));
    let kept = prediction_files(&out)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim().is_empty() && !l.contains("\"error\":\""))
                .count()
        })
        .sum();
    Ok(Unsandboxed {
        code,
        failure: failure.chars().take(300).collect(),
        in_report,
        kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siblings_replace_the_last_segment() {
        assert_eq!(
            sibling("load/parallel_6_number_1200/2", 0),
            "load/parallel_6_number_1200/0"
        );
        assert_eq!(sibling("x", 1), "x/1");
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let head = "POST / HTTP/1.1\r\nX-Request-Id: load/p/0-7\r\ncontent-length: 3\r\n\r\n";
        assert_eq!(header(head, "x-request-id"), Some("load/p/0-7"));
        assert_eq!(header(head, "content-length"), Some("3"));
    }
}
