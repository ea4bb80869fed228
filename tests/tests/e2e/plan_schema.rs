//! The plan's JSON Schema: the published `docs/schemas/plan.schema.json` is the one generated
//! from the plan model, every example validates against it and parses, and bad plans are
//! rejected by both.
//!
//! After changing the plan model, regenerate the published file with
//! `UPDATE_SCHEMAS=1 cargo test -p swarm-tests --test e2e plan_schema`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use swarm_coordinator::plan::env::substitute;
use swarm_coordinator::plan::{AgentToken, Placement, Plan, parse_plan, plan_schema};
use swarm_tests::schemas::violations;

const SCHEMA_FILE: &str = "plan.schema.json";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vars() -> HashMap<String, String> {
    [("PORT".to_string(), "8000".to_string())]
        .into_iter()
        .collect()
}

/// The plan text as JSON, after `${VAR}` substitution (what the schema describes).
fn as_json(text: &str) -> Value {
    let text = substitute(text, &vars()).expect("variables resolve");
    serde_norway::from_str(&text).expect("valid YAML")
}

fn parse(text: &str, path: &Path) -> Result<Plan, String> {
    parse_plan(text, path, &vars()).map_err(|e| e.to_string())
}

#[test]
fn the_published_schema_is_the_generated_one() {
    let generated = plan_schema();
    assert!(
        jsonschema::meta::is_valid(&generated),
        "the generated schema is a valid JSON Schema"
    );
    let path = repo().join("docs/schemas").join(SCHEMA_FILE);
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        let text = serde_json::to_string_pretty(&generated).expect("serializes") + "\n";
        // write then rename, so tests reading the file meanwhile never see half of it
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).expect("writes the schema");
        std::fs::rename(&tmp, &path).expect("replaces the schema");
        return;
    }
    let published: Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    assert!(
        published == generated,
        "{} is stale: regenerate it with `UPDATE_SCHEMAS=1 cargo test -p swarm-tests --test e2e plan_schema`",
        path.display()
    );
}

#[test]
fn the_schema_describes_the_new_sections() {
    let s = plan_schema();
    let props = &s["properties"];
    for key in [
        "version",
        "name",
        "agents",
        "coordinator",
        "targets",
        "workloads",
    ] {
        assert!(props.get(key).is_some(), "top-level {key}");
    }
    assert_eq!(s["additionalProperties"], Value::Bool(false));
    let agents = &s["$defs"]["AgentsDef"]["properties"];
    assert_eq!(agents["wait_s"]["default"], 60.0);
    assert_eq!(agents["heartbeat_timeout_s"]["default"], 10.0);
    let listen = &s["$defs"]["CoordinatorDef"]["properties"]["listen"];
    assert_eq!(listen["default"], "127.0.0.1:7070");
}

fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_example_validates_and_parses() {
    let files = examples();
    let names: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(String::from))
        .collect();
    for want in ["quickstart.yaml", "distributed.yaml", "local-3-agents.yaml"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable");
        assert_eq!(
            violations(SCHEMA_FILE, &as_json(&text)),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        parse(&text, path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn the_examples_mean_what_they_say() {
    let dir = repo().join("examples");
    let read = |name: &str| {
        let path = dir.join(name);
        parse(&std::fs::read_to_string(&path).expect("readable"), &path).expect("parses")
    };

    let quick = read("quickstart.yaml").agents();
    assert_eq!((quick.local_agents, quick.min_agents), (1, 0));
    assert_eq!(quick.known_count(), Some(1));

    let local = read("local-3-agents.yaml");
    assert_eq!(local.agents().known_count(), Some(3));
    assert!(local.listener(&dir).is_none());
    assert_eq!(local.workloads[0].placement, Placement::Split);

    let mt = read("multi-turn.yaml");
    let perf = mt.workloads[0].perf.as_ref().expect("perf");
    let m = perf.multi_turn.expect("multi_turn");
    assert_eq!(
        (m.min_turns, m.max_turns, m.think_time_s),
        (2, Some(5), 0.5)
    );

    let dist = read("distributed.yaml");
    let a = dist.agents();
    assert_eq!((a.local_agents, a.min_agents), (0, 2));
    assert_eq!(a.known_count(), None);
    assert_eq!(a.wait, Duration::from_secs(120));
    assert_eq!(a.heartbeat_timeout, Duration::from_secs(10));
    let pool = |v: &str| [("pool".to_string(), v.to_string())].into_iter().collect();
    assert!(a.selects(&pool("load")));
    assert!(!a.selects(&pool("batch")));
    assert!(!a.selects(&Default::default()));
    let l = dist.listener(&dir).expect("has a coordinator section");
    assert_eq!(l.listen.to_string(), "0.0.0.0:7070");
    assert_eq!(
        l.token,
        Some(AgentToken::File(dir.join("secrets/agent-token")))
    );
    let tls = l.tls.expect("tls");
    assert_eq!(tls.cert, dir.join("tls/server.pem"));
    assert_eq!(tls.client_ca, Some(dir.join("tls/ca.pem")));
    assert!(!l.insecure);
    assert_eq!(
        dist.workloads[0].placement,
        Placement::PerLabel("region".into())
    );
}

const BASE: &str = "version: 1
name: t
targets:
  - name: sim
    sim: {latency: {ttft_ms: 1, itl_ms: 0}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 8, max_prompt_length: 16}
      max_tokens: 4
      stages:
        - {parallel: 3, number: 6}
";

fn with_agents(agents: &str) -> String {
    BASE.replace("workloads:", &format!("{agents}\nworkloads:"))
}

fn with_placement(placement: &str) -> String {
    BASE.replace(
        "  - name: w\n",
        &format!("  - name: w\n    placement: {placement}\n"),
    )
}

#[test]
fn new_sections_accepted_by_both() {
    let ok = [
        BASE.to_string(),
        with_agents("agents: {local_agents: 3}"),
        with_agents("agents: {local_agents: 2, min_agents: 1}\ncoordinator: {}"),
        with_agents(
            "agents: {min_agents: 1, selector: {region: eu-west}}\ncoordinator: {listen: '127.0.0.1:9000', token_env: SWARM_TOKEN}",
        ),
        with_agents(
            "coordinator: {listen: '0.0.0.0:7070', insecure: true}\nagents: {min_agents: 2}",
        ),
        with_placement("split"),
        with_placement("{per_label: region}"),
    ];
    for text in ok {
        assert_eq!(
            violations(SCHEMA_FILE, &as_json(&text)),
            Vec::<String>::new(),
            "{text}"
        );
        parse(&text, Path::new("plan.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
    let p = parse(
        &with_agents("agents: {min_agents: 1}\ncoordinator: {}"),
        Path::new("plan.yaml"),
    )
    .expect("parses");
    let l = p.listener(Path::new(".")).expect("listener");
    assert_eq!(l.listen.to_string(), "127.0.0.1:7070");
    assert_eq!((l.token, l.tls), (None, None));
    assert_eq!(p.agents().local_agents, 0);
}

#[test]
fn bad_plans_are_rejected_by_both() {
    let cases = [
        (
            with_agents("agents: {min_agent: 2}"),
            "agents.min_agent: unknown field `min_agent`",
        ),
        (
            with_agents("agents: {local_agents: -1}"),
            "agents.local_agents: invalid type: integer `-1`, expected u32",
        ),
        (
            with_agents("agents: {local_agents: 2000}"),
            "agents.local_agents: at most 1024 in-process agents, got 2000",
        ),
        (
            with_agents("coordinator: {listen: '127.0.0.1:7070', insecure: maybe}"),
            "coordinator.insecure: invalid type",
        ),
        (
            with_agents("coordinator: {tls: {cert: a.pem, key: a.key, ca: c.pem}}"),
            "coordinator.tls.ca: unknown field `ca`",
        ),
        (
            with_placement("spread"),
            "workloads[0].placement: invalid value: string \"spread\", expected `split` or `{per_label: LABEL}`",
        ),
        (
            with_placement("{per_label: region, per_zone: a}"),
            "workloads[0].placement: unknown field `per_zone`, expected `per_label`",
        ),
        (
            with_placement("{per_label: ''}"),
            "workloads[0].placement.per_label: must name an agent label",
        ),
        (
            BASE.replace("number: 6}", "number: 6, ramp_up: 2}"),
            "workloads[0].perf.stages[0].ramp_up: unknown field `ramp_up`",
        ),
    ];
    for (text, want) in cases {
        assert_ne!(
            violations(SCHEMA_FILE, &as_json(&text)),
            Vec::<String>::new(),
            "the schema accepts:\n{text}"
        );
        let err = parse(&text, Path::new("plan.yaml")).expect_err("must fail");
        assert!(err.contains(want), "want {want:?} in: {err}");
    }
}
