//! Collections with code lines: a HumanEval line is scored by HumanEval through the caller's
//! code runner (a recording double here), a GSM8K line never runs code, and each code line's
//! `sandbox_config` is the task's per-dataset one, else the `data_collection` entry's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};
use swarm_eval::benchmarks::live_code_bench;
use swarm_eval::benchmarks::live_code_bench::records::EvaluationSample;
use swarm_eval::collection::benchmark::original_of;
use swarm_eval::collection::{
    CollectionSchema, SamplerKind, apply_task_sandbox_configs, flatten, sample, sandbox_config,
    write_lines,
};
use swarm_eval::exec::{CodeRunner, ProgramRun, RunOutcome, RunStatus, ScoreContext};
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError, Sample, task};

const SCHEMA: &str = r#"
name: mix
datasets:
  - name: Code
    datasets:
      - {name: humaneval, task_type: code, args: {limit: 3}}
  - name: Math
    datasets:
      - {name: gsm8k, task_type: math, args: {limit: 2}}
"#;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/eval/{rel}"))
}

/// Runs nothing: records each program and answers with a fixed exit code.
struct Recorder {
    exit: i32,
    runs: Mutex<Vec<ProgramRun>>,
}

impl Recorder {
    fn new(exit: i32) -> Self {
        Self {
            exit,
            runs: Mutex::new(Vec::new()),
        }
    }

    fn programs(&self) -> Vec<String> {
        let runs = self.runs.lock().unwrap();
        runs.iter().map(|r| r.program.clone()).collect()
    }
}

impl CodeRunner for Recorder {
    fn run(&self, run: &ProgramRun) -> RunOutcome {
        self.runs.lock().unwrap().push(run.clone());
        RunOutcome {
            status: RunStatus::Exited(self.exit),
            stdout: String::new(),
            stderr: String::new(),
            wall: Duration::from_millis(1),
        }
    }
}

/// The collection's entry arguments (with `entry_sandbox`) and its 5 samples.
fn collection(dir: &Path, entry_sandbox: Value) -> (DatasetArgs, Vec<Sample>) {
    collection_of(dir, SCHEMA, entry_sandbox, 5)
}

/// The collection of `schema` built from the fixtures: its entry arguments (with
/// `entry_sandbox`) and its `n` samples.
fn collection_of(
    dir: &Path,
    schema: &str,
    entry_sandbox: Value,
    n: usize,
) -> (DatasetArgs, Vec<Sample>) {
    let schema = CollectionSchema::parse(schema, Path::new("mix.yaml")).unwrap();
    let data: Vec<_> = flatten(&schema)
        .into_iter()
        .map(|d| {
            let mut args = d.args.clone();
            args.local_path = Some(match d.name.as_str() {
                "humaneval" => fixture("humaneval"),
                "live_code_bench" => fixture("live_code_bench"),
                _ => fixture("gsm8k/test.jsonl"),
            });
            let samples = benchmark(&d.name).unwrap().load(&args).unwrap();
            (d, samples)
        })
        .collect();
    let lines = sample(SamplerKind::Uniform, &data, 100, 1);
    let path = dir.join("mix.jsonl");
    write_lines(&path, &lines).unwrap();
    let args = DatasetArgs {
        local_path: Some(path),
        sandbox_config: serde_json::from_value(entry_sandbox).unwrap(),
        ..Default::default()
    };
    let samples = benchmark("data_collection").unwrap().load(&args).unwrap();
    assert_eq!(samples.len(), n);
    (args, samples)
}

fn dataset(s: &Sample) -> String {
    original_of(s).unwrap().0
}

/// HumanEval's canonical solution, fenced as a model answers.
fn working(s: &Sample) -> String {
    let (_, inner) = original_of(s).unwrap();
    let prompt = inner.metadata["prompt"].as_str().unwrap();
    format!("```python\n{prompt}{}\n```", inner.gold)
}

#[test]
fn humaneval_lines_are_scored_through_the_code_runner() {
    let dir = tempfile::tempdir().unwrap();
    let (args, samples) = collection(dir.path(), json!({}));
    let dc = benchmark("data_collection").unwrap();
    let chain = task::filters("data_collection", &args).unwrap();
    assert!(!dc.runs_code(), "a collection alone runs no code");
    let code: Vec<&Sample> = samples.iter().filter(|s| dc.runs_code_on(s)).collect();
    assert_eq!(code.len(), 3);
    assert!(code.iter().all(|s| dataset(s) == "humaneval"));

    for (exit, acc) in [(0, 1.0), (1, 0.0)] {
        let runner = Recorder::new(exit);
        let ctx = ScoreContext {
            runner: Some(&runner),
        };
        for s in &code {
            let answer = working(s);
            let (extracted, score) = task::score_in(dc.as_ref(), &chain, s, &answer, &ctx);
            assert_eq!(score.values["acc"], acc, "{}: exit {exit}", s.id);
            assert!(extracted.contains(&original_of(s).unwrap().1.gold));
        }
        let programs = runner.programs();
        assert_eq!(programs.len(), 3, "one run per code line");
        for (program, s) in programs.iter().zip(&code) {
            let (_, inner) = original_of(s).unwrap();
            let entry = inner.metadata["entry_point"].as_str().unwrap();
            assert!(program.contains(&inner.gold), "{program}");
            assert!(program.contains(&format!("check({entry})")), "{program}");
        }
    }

    // without a runner a code line fails; a math line never runs code
    let runner = Recorder::new(0);
    let ctx = ScoreContext {
        runner: Some(&runner),
    };
    let (_, score) = task::score(dc.as_ref(), &chain, code[0], &working(code[0]));
    assert_eq!(score.values["acc"], 0.0);
    for s in samples.iter().filter(|s| dataset(s) == "gsm8k") {
        assert!(!dc.runs_code_on(s));
        let answer = format!("The answer is {}", s.gold);
        let (_, score) = task::score_in(dc.as_ref(), &chain, s, &answer, &ctx);
        assert_eq!(score.values["acc"], 1.0, "{}: {answer}", s.id);
    }
    assert!(runner.programs().is_empty());
}

fn config(v: Value) -> Map<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn a_code_lines_sandbox_config_is_the_tasks_else_the_entrys() {
    let dir = tempfile::tempdir().unwrap();
    let entry = json!({"timeout_s": 7.0});
    let (args, mut samples) = collection(dir.path(), entry.clone());
    // before the task's arguments apply, every line has the entry's
    assert!(
        samples
            .iter()
            .all(|s| sandbox_config(s, &args) == &config(entry.clone()))
    );
    let task_args = BTreeMap::from([
        (
            "humaneval".to_owned(),
            DatasetArgs {
                sandbox_config: config(json!({"allow_unisolated": true, "memory_mb": 512})),
                ..Default::default()
            },
        ),
        ("data_collection".to_owned(), args.clone()),
    ]);
    assert_eq!(
        apply_task_sandbox_configs(&mut samples, &task_args).unwrap(),
        3
    );
    for s in &samples {
        let want = if dataset(s) == "humaneval" {
            json!({"allow_unisolated": true, "memory_mb": 512})
        } else {
            entry.clone()
        };
        assert_eq!(sandbox_config(s, &args), &config(want), "{}", s.id);
    }
    // an empty task config leaves the lines to the entry's again
    let cleared = BTreeMap::from([("humaneval".to_owned(), DatasetArgs::default())]);
    assert_eq!(
        apply_task_sandbox_configs(&mut samples, &cleared).unwrap(),
        0
    );
    assert!(
        samples
            .iter()
            .all(|s| sandbox_config(s, &args) == &config(entry.clone()))
    );
    // a bad config names its dataset and changes nothing
    let bad = BTreeMap::from([(
        "humaneval".to_owned(),
        DatasetArgs {
            sandbox_config: config(json!({"memory_mb": 1})),
            ..Default::default()
        },
    )]);
    let before = samples.clone();
    let e = apply_task_sandbox_configs(&mut samples, &bad).unwrap_err();
    assert!(
        matches!(&e, EvalError::BadArgs { benchmark, message }
            if benchmark == "humaneval" && message.contains("sandbox_config.memory_mb")),
        "{e}"
    );
    assert_eq!(samples, before);
}

const LCB_SCHEMA: &str = r#"
name: lcb-mix
datasets:
  - name: Code
    datasets:
      - {name: live_code_bench, task_type: code}
  - name: Math
    datasets:
      - {name: gsm8k, task_type: math, args: {limit: 2}}
"#;

/// Grades as a sandbox would if every answer were right (`right`) or every one wrong: a stdin
/// program prints the output its test expects (or something else); the call harness passes
/// when the code it was sent is the model's (or fails). Records what it was asked to run.
struct Oracle {
    right: bool,
    /// stdin → the output its test expects, over every LiveCodeBench sample.
    expected: BTreeMap<String, String>,
    runs: Mutex<Vec<ProgramRun>>,
}

impl CodeRunner for Oracle {
    fn run(&self, run: &ProgramRun) -> RunOutcome {
        self.runs.lock().unwrap().push(run.clone());
        let harness = run.program == live_code_bench::grade::CALL_HARNESS;
        let (ok, stdout) = if harness {
            let payload: Value = serde_json::from_str(&run.stdin).unwrap();
            let code = payload["code"].as_str().unwrap();
            (self.right && code.contains(MARK), String::new())
        } else {
            let want = self.expected.get(&run.stdin).cloned().unwrap_or_default();
            (true, if self.right { want } else { format!("{want}x") })
        };
        RunOutcome {
            status: RunStatus::Exited(if ok { 0 } else { 1 }),
            stdout,
            stderr: String::new(),
            wall: Duration::from_millis(1),
        }
    }
}

/// What every code answer holds, to be found in what the graders run.
const MARK: &str = "answer_from_the_model = 42";

fn tests_of(s: &Sample) -> EvaluationSample {
    let (_, inner) = original_of(s).unwrap();
    serde_json::from_str(inner.metadata["evaluation_sample"].as_str().unwrap()).unwrap()
}

#[test]
fn live_code_bench_lines_are_graded_by_its_own_tests_through_the_code_runner() {
    let dir = tempfile::tempdir().unwrap();
    let (args, samples) = collection_of(dir.path(), LCB_SCHEMA, json!({}), 8);
    let dc = benchmark("data_collection").unwrap();
    let chain = task::filters("data_collection", &args).unwrap();
    let code: Vec<&Sample> = samples.iter().filter(|s| dc.runs_code_on(s)).collect();
    assert_eq!(code.len(), 6, "every problem of the fixture");
    assert!(code.iter().all(|s| dataset(s) == "live_code_bench"));
    let expected: BTreeMap<String, String> = code
        .iter()
        .flat_map(|s| {
            let t = tests_of(s);
            t.inputs.into_iter().zip(t.outputs)
        })
        .collect();
    let functional = code
        .iter()
        .filter(|s| tests_of(s).fn_name.is_some())
        .count();
    assert!(
        functional > 0 && functional < code.len(),
        "both kinds of problem"
    );
    let answer = format!("```python\n{MARK}\nprint(answer_from_the_model)\n```");
    for right in [true, false] {
        let runner = Oracle {
            right,
            expected: expected.clone(),
            runs: Mutex::new(Vec::new()),
        };
        let ctx = ScoreContext {
            runner: Some(&runner),
        };
        for s in &code {
            let (extracted, score) = task::score_in(dc.as_ref(), &chain, s, &answer, &ctx);
            assert!(extracted.contains(MARK), "{extracted}");
            let want = if right { 1.0 } else { 0.0 };
            assert_eq!(score.values["acc"], want, "{}: right = {right}", s.id);
        }
        let runs = runner.runs.into_inner().unwrap();
        // every test of every problem ran when all pass; a failing test stops its problem
        let tests: usize = code.iter().map(|s| tests_of(s).inputs.len()).sum();
        if right {
            assert_eq!(runs.len(), tests);
        } else {
            assert_eq!(runs.len(), code.len(), "the first test fails each problem");
        }
        for r in &runs {
            if r.program == live_code_bench::grade::CALL_HARNESS {
                let payload: Value = serde_json::from_str(&r.stdin).unwrap();
                assert!(payload["fn_name"].is_string(), "{payload}");
            } else {
                assert!(r.program.contains(MARK), "the model's code runs");
                assert!(expected.contains_key(&r.stdin), "a test's own input");
            }
        }
    }
    // math lines of the same collection run nothing
    let runner = Oracle {
        right: true,
        expected,
        runs: Mutex::new(Vec::new()),
    };
    let ctx = ScoreContext {
        runner: Some(&runner),
    };
    for s in samples.iter().filter(|s| dataset(s) == "gsm8k") {
        let (_, score) = task::score_in(
            dc.as_ref(),
            &chain,
            s,
            &format!("The answer is {}", s.gold),
            &ctx,
        );
        assert_eq!(score.values["acc"], 1.0);
    }
    assert!(runner.runs.into_inner().unwrap().is_empty());
}
