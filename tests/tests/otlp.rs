//! OTLP export end to end: the coordinator built with the `otlp` feature runs a plan (llm-sim
//! in-process, two local agents, two stages) with only `OTEL_EXPORTER_OTLP_ENDPOINT` set (no
//! `RUST_LOG`, no `SWARM_OTLP_FILTER`), and an in-test OTLP/gRPC receiver (the collector's trace
//! and metrics services) gets the run's spans — run, stage, session, shard, with the run id,
//! stage and agent ids, linked parent to child — and the `swarm.requests` counter, whose values
//! per workload and stage equal the run's "Total Requests".
//!
//! Only with `--features otlp` (scripts/test.sh: `cargo test -p swarm-tests --features otlp
//! --test otlp`); the coordinator it runs is this crate's `coordinator-otlp` binary, the
//! coordinator's own main built with those features.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, metric, number_data_point};
use opentelemetry_proto::tonic::trace::v1::Span;
use swarm_tests::schemas::read_json;
use tokio_util::sync::CancellationToken;

/// What the receiver was sent.
#[derive(Default)]
struct Received {
    traces: Mutex<Vec<ExportTraceServiceRequest>>,
    metrics: Mutex<Vec<ExportMetricsServiceRequest>>,
}

#[derive(Clone)]
struct Receiver(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0
            .traces
            .lock()
            .expect("lock")
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0
            .metrics
            .lock()
            .expect("lock")
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Serves the trace and metrics services on a free loopback port until `stop`.
async fn start_receiver(received: Arc<Received>, stop: CancellationToken) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let r = Receiver(received);
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(r.clone()))
            .add_service(MetricsServiceServer::new(r))
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::TcpListenerStream::new(listener),
                stop.cancelled_owned(),
            )
            .await
            .expect("OTLP receiver serves");
    });
    addr
}

const PLAN: &str = "version: 1
name: otlp
agents:
  local_agents: 2
targets:
  - name: sim
    sim: {latency: {ttft_ms: 1, itl_ms: 0}}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {kind: line_by_line, path: p.txt}
      max_tokens: 2
      stages:
        - {parallel: 2, number: 6}
        - {parallel: 4, number: 10}
";

const STAGES: [(&str, u64); 2] = [("parallel_2_number_6", 6), ("parallel_4_number_10", 10)];

fn string_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn spans(received: &Received) -> Vec<Span> {
    received
        .traces
        .lock()
        .expect("lock")
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| s.spans.iter().cloned())
        .collect()
}

fn service_names(received: &Received) -> BTreeSet<String> {
    let traces = received.traces.lock().expect("lock");
    let metrics = received.metrics.lock().expect("lock");
    let from_spans = traces
        .iter()
        .flat_map(|r| &r.resource_spans)
        .map(|r| &r.resource);
    let from_metrics = metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .map(|r| &r.resource);
    from_spans
        .chain(from_metrics)
        .flatten()
        .filter_map(|r| string_attr(&r.attributes, "service.name"))
        .map(str::to_string)
        .collect()
}

/// A counter's value per (workload, stage): the last cumulative point, or the sum of delta
/// points, over every export.
fn counter(received: &Received, name: &str) -> BTreeMap<(String, String), i64> {
    let mut last: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
    let mut sums: BTreeMap<(String, String), i64> = BTreeMap::new();
    let metrics = received.metrics.lock().expect("lock");
    let all = metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name);
    for m in all {
        let Some(metric::Data::Sum(sum)) = &m.data else {
            panic!("{name} is not a sum: {m:?}");
        };
        assert!(sum.is_monotonic, "{name} is a counter: {m:?}");
        let cumulative = sum.aggregation_temporality == AggregationTemporality::Cumulative as i32;
        for p in &sum.data_points {
            let key = (
                string_attr(&p.attributes, "workload")
                    .expect("a workload attribute")
                    .to_string(),
                string_attr(&p.attributes, "stage")
                    .expect("a stage attribute")
                    .to_string(),
            );
            let v = match p.value {
                Some(number_data_point::Value::AsInt(v)) => v,
                other => panic!("{name}: not an integer point: {other:?}"),
            };
            if cumulative {
                let e = last.entry(key).or_insert((0, v));
                if p.time_unix_nano >= e.0 {
                    *e = (p.time_unix_nano, v);
                }
            } else {
                *sums.entry(key).or_default() += v;
            }
        }
    }
    for (k, (_, v)) in last {
        *sums.entry(k).or_default() += v;
    }
    sums
}

/// The last value of gauge `name` over every export.
fn last_gauge(received: &Received, name: &str) -> Option<i64> {
    let metrics = received.metrics.lock().expect("lock");
    metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
        .filter_map(|m| match &m.data {
            Some(metric::Data::Gauge(g)) => Some(&g.data_points),
            _ => None,
        })
        .flatten()
        .max_by_key(|p| p.time_unix_nano)
        .and_then(|p| match p.value {
            Some(number_data_point::Value::AsInt(v)) => Some(v),
            _ => None,
        })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_spans_and_metrics_arrive_over_otlp() {
    let received = Arc::new(Received::default());
    let stop = CancellationToken::new();
    let addr = start_receiver(Arc::clone(&received), stop.clone()).await;

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("p.txt"), "hello\nsecond prompt\nthird prompt\n").expect("dataset");
    std::fs::write(dir.join("plan.yaml"), PLAN).expect("plan");
    let out = std::fs::File::create(dir.join("stdout.txt")).expect("stdout file");
    let err = std::fs::File::create(dir.join("stderr.txt")).expect("stderr file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coordinator-otlp"));
    cmd.current_dir(dir)
        .args(["run", "--quiet", "--run-dir", "the-run", "plan.yaml"])
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // the export's own defaults: no console filter, no export filter, no other OTEL_ settings
    for (k, _) in std::env::vars_os() {
        if k.to_str()
            .is_some_and(|k| k.starts_with("OTEL_") || k == "RUST_LOG" || k == "SWARM_OTLP_FILTER")
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"));
    let started = Instant::now();
    let mut child = cmd.spawn().expect("coordinator-otlp starts");
    let deadline = started + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the run did not end in 120 s: {}",
                read(&dir.join("stderr.txt"))
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stderr = read(&dir.join("stderr.txt"));
    assert!(status.success(), "{status}: {stderr}");
    eprintln!("the run took {:?}", started.elapsed());
    // the export filter is the export's: the console keeps its own level (warn)
    assert!(
        !stderr.contains(" INFO "),
        "info lines reached the console: {stderr}"
    );

    let run = dir.join("the-run");
    let run_id = read_json(&run.join("run.json"))["run_id"]
        .as_str()
        .expect("run_id")
        .to_string();
    assert_eq!(run_id, "the-run");
    let total = |stage: &str| {
        read_json(&run.join(format!("perf/chat/{stage}/benchmark_summary.json")))["Total Requests"]
            .as_u64()
            .expect("Total Requests")
    };

    // the exporters flush on the way out, so everything is here when the process has ended;
    // a short grace period all the same, with a deadline
    let wanted = |s: &[Span]| {
        ["run", "stage", "session", "shard"]
            .iter()
            .all(|n| s.iter().any(|x| x.name == *n))
    };
    let grace = Instant::now() + Duration::from_secs(10);
    let arrived = |r: &Received| wanted(&spans(r)) && !counter(r, "swarm.requests").is_empty();
    while !arrived(&received) && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.cancel();

    let all = spans(&received);
    let named = |n: &str| all.iter().filter(|s| s.name == n).collect::<Vec<_>>();
    let names: BTreeSet<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert!(wanted(&all), "span names: {names:?}");
    assert_eq!(
        service_names(&received),
        BTreeSet::from(["swarm-coordinator".to_string()])
    );

    // run: one, the trace's root, with the run id, the command's kind and the plan's name
    let runs = named("run");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let root = runs[0];
    assert!(root.parent_span_id.is_empty(), "{root:?}");
    assert_eq!(string_attr(&root.attributes, "run_id"), Some(&*run_id));
    assert_eq!(string_attr(&root.attributes, "kind"), Some("Plan"));
    assert_eq!(string_attr(&root.attributes, "name"), Some("otlp"));

    // stage: one per stage, children of the run, with run id, workload and stage
    let stages = named("stage");
    let stage_names: BTreeSet<&str> = stages
        .iter()
        .map(|s| string_attr(&s.attributes, "stage").expect("stage attribute"))
        .collect();
    assert_eq!(
        stage_names,
        STAGES.iter().map(|(s, _)| *s).collect::<BTreeSet<_>>()
    );
    assert_eq!(stages.len(), STAGES.len(), "{stages:?}");
    for s in &stages {
        assert_eq!(
            string_attr(&s.attributes, "run_id"),
            Some(&*run_id),
            "{s:?}"
        );
        assert_eq!(
            string_attr(&s.attributes, "workload"),
            Some("chat"),
            "{s:?}"
        );
        assert_eq!(s.trace_id, root.trace_id, "{s:?}");
        assert_eq!(s.parent_span_id, root.span_id, "{s:?}");
    }

    // session: one per local agent, with its agent id and the run id of the session's welcome
    let sessions = named("session");
    let agents: BTreeSet<&str> = sessions
        .iter()
        .map(|s| string_attr(&s.attributes, "agent_id").expect("agent_id attribute"))
        .collect();
    assert_eq!(
        agents,
        BTreeSet::from(["local-0", "local-1"]),
        "{sessions:?}"
    );
    for s in &sessions {
        assert_eq!(
            string_attr(&s.attributes, "run_id"),
            Some(&*run_id),
            "{s:?}"
        );
    }

    // shard: every stage gives each agent one shard, each the child of a session
    let shards = named("shard");
    assert_eq!(shards.len(), STAGES.len() * 2, "{shards:?}");
    for s in &shards {
        assert!(
            string_attr(&s.attributes, "shard_id").is_some_and(|id| !id.is_empty()),
            "{s:?}"
        );
        let parent = sessions
            .iter()
            .find(|p| p.span_id == s.parent_span_id && p.trace_id == s.trace_id);
        assert!(parent.is_some(), "a shard outside a session: {s:?}");
    }
    let per_agent: BTreeMap<&str, usize> = shards.iter().fold(BTreeMap::new(), |mut m, s| {
        let p = sessions
            .iter()
            .find(|p| p.span_id == s.parent_span_id)
            .expect("parent");
        *m.entry(string_attr(&p.attributes, "agent_id").expect("agent_id"))
            .or_default() += 1;
        m
    });
    assert_eq!(
        per_agent,
        BTreeMap::from([("local-0", STAGES.len()), ("local-1", STAGES.len())])
    );

    // swarm.requests per workload and stage: the run's Total Requests
    let requests = counter(&received, "swarm.requests");
    let want: BTreeMap<(String, String), i64> = STAGES
        .iter()
        .map(|(s, n)| {
            assert_eq!(total(s), *n, "{s}: Total Requests");
            (("chat".to_string(), s.to_string()), *n as i64)
        })
        .collect();
    assert_eq!(requests, want);
    let failed = counter(&received, "swarm.requests.failed");
    assert!(failed.values().all(|v| *v == 0), "{failed:?}");
    assert_eq!(last_gauge(&received, "swarm.agents"), Some(2));
}
