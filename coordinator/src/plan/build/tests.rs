//! Tests of building jobs from a plan.

use super::*;

fn stage(yaml: &str) -> Result<StageSpec, (&'static str, String)> {
    stage_spec(&serde_norway::from_str::<StageDef>(yaml).expect("stage def"))
}

#[test]
fn ramps_make_ramped_stages_and_bad_ones_name_their_field() {
    let s = stage("{ramp: {from: 2, to: 20, over_s: 10}, duration_s: 12, parallel: 64}")
        .expect("rate ramp");
    let r = s.ramp.expect("ramp");
    assert_eq!((r.from, r.to, r.over_s), (2.0, 20.0, Some(10.0)));
    assert_eq!(r.strategy, RampStrategy::Linear);
    assert_eq!(
        s.load,
        LoadModel::Open {
            rate: 20.0,
            arrival: Arrival::Poisson,
            max_concurrency: Some(64)
        }
    );
    assert_eq!(
        s.name,
        "ramp_rate_2_20_linear_over_10s_parallel_64_duration_12s"
    );
    let u =
        stage("{ramp: {of: users, from: 0, to: 8, over_s: 4}, duration_s: 6}").expect("users ramp");
    assert_eq!(u.load, LoadModel::Closed { concurrency: 8 });
    assert_eq!(u.name, "ramp_users_0_8_linear_over_4s_duration_6s");
    // vLLM's clock: over the stage's requests when over_s is left out
    let v = stage("{ramp: {from: 1, to: 9, strategy: exponential}, number: 50}").expect("vllm");
    assert_eq!(v.ramp.expect("ramp").over_s, None);
}

fn field(yaml: &str) -> &'static str {
    stage_spec(&serde_norway::from_str::<StageDef>(yaml).expect("stage def"))
        .err()
        .map_or("ok", |(f, _)| f)
}

#[test]
fn bad_ramps_name_their_field() {
    assert_eq!(
        field("{ramp: {from: -1, to: 2, over_s: 1}, number: 5}"),
        "ramp.from"
    );
    assert_eq!(
        field("{ramp: {from: 0, to: 0, over_s: 1}, number: 5}"),
        "ramp.to"
    );
    assert_eq!(
        field("{ramp: {from: 1, to: 2, over_s: 0}, number: 5}"),
        "ramp.over_s"
    );
    assert_eq!(
        field("{ramp: {from: 0, to: 2, over_s: 1, strategy: exponential}, number: 5}"),
        "ramp.strategy"
    );
    assert_eq!(
        field("{ramp: {from: 1, to: 2, strategy: cubic}, number: 5}"),
        "ramp.strategy"
    );
    assert_eq!(
        field("{ramp: {from: 1, to: 2}, rate: 3, number: 5}"),
        "rate"
    );
    assert_eq!(
        field("{ramp: {of: vus, from: 1, to: 2}, number: 5}"),
        "ramp.of"
    );
    // a users ramp needs a clock: over_s or duration_s
    assert_eq!(
        field("{ramp: {of: users, from: 1, to: 3}, number: 5}"),
        "ramp.over_s"
    );
    assert_eq!(
        field("{ramp: {of: users, from: 1, to: 3, over_s: 2}, parallel: 3, number: 5}"),
        "parallel"
    );
    // over the request count (vLLM) the first request is paced at `from`
    assert_eq!(field("{ramp: {from: 0, to: 2}, number: 5}"), "ramp.from");
    assert_eq!(
        field("{ramp: {from: 0, to: 2, over_s: 3}, number: 5}"),
        "ok"
    );
}

fn perf(sla: &str) -> PerfDef {
    let yaml = format!(
        "target: t\ndataset: {{kind: random}}\nstages: [{{parallel: 4, number: 8}}]\nsla: {sla}\n"
    );
    serde_norway::from_str(&yaml).expect("perf def")
}

#[test]
fn rate_probes_arrive_as_the_search_says_without_a_starting_rate() {
    let params = r#"params: '[{"p99_ttft": "<=0.1"}]'"#;
    let gamma = perf(&format!(
        "{{variable: rate, {params}, arrival: gamma, burstiness: 0.5}}"
    ));
    let plan = sla_plan(&gamma).expect("valid").expect("an sla plan");
    assert_eq!(plan.arrival, Arrival::Gamma { burstiness: 0.5 });
    let constant = perf(&format!("{{variable: rate, {params}, arrival: constant}}"));
    let plan = sla_plan(&constant).expect("valid").expect("an sla plan");
    assert_eq!(plan.arrival, Arrival::Constant);
    // nothing said, and a closed-loop first stage: Poisson, as EvalScope's rate
    let default = perf(&format!("{{variable: rate, {params}}}"));
    let plan = sla_plan(&default).expect("valid").expect("an sla plan");
    assert_eq!(plan.arrival, Arrival::Poisson);
    let bad = perf(&format!("{{variable: rate, {params}, arrival: steady}}"));
    let err = sla_plan(&bad).expect_err("unknown arrival");
    assert!(err.to_string().contains("steady"), "{err}");
}

#[test]
fn speed_benchmark_sends_completions() {
    let target = |url: &str| {
        let (api, url) = ApiKind::resolve(url);
        TargetSpec {
            url,
            api,
            model: "m".into(),
            api_key: None,
            headers: vec![],
            connect_timeout_s: 1.0,
            read_timeout_s: 1.0,
            total_timeout_s: 1.0,
            transport: Default::default(),
        }
    };
    for url in ["http://h:1/v1/chat/completions", "http://h:1/v1"] {
        for kind in [DatasetKind::SpeedBenchmark, DatasetKind::SpeedBenchmarkLong] {
            let t = speed_benchmark_target(kind, target(url));
            assert_eq!(t.url, "http://h:1/v1/completions");
            assert!(matches!(t.api, ApiKind::Completions));
        }
        let chat = speed_benchmark_target(DatasetKind::Random, target(url));
        assert_eq!(chat, target(url));
    }
}

#[test]
fn speed_benchmark_without_the_records_is_refused_before_any_load() {
    let yaml = "target: t\ndataset: {kind: speed_benchmark}\nstages: [{parallel: 1, number: 8}]\nsqlite: false\n";
    let p: PerfDef = serde_norway::from_str(yaml).expect("perf def");
    let target = TargetSpec {
        url: "http://h:1/v1/completions".into(),
        api: ApiKind::Completions,
        model: "m".into(),
        api_key: None,
        headers: vec![],
        connect_timeout_s: 1.0,
        read_timeout_s: 1.0,
        total_timeout_s: 1.0,
        transport: Default::default(),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let err = job("w", &p, target, dir.path(), dir.path()).expect_err("refused");
    assert!(err.to_string().contains("--no-sqlite"), "{err}");
}
