//! The code benchmarks without running code: HumanEval and LiveCodeBench loading (gzip JSONL,
//! the re-pack JSON array, canonical records), EvalScope's prompts and code extraction, date
//! filters, sandbox settings, and that nothing scores without a code runner.

use std::path::{Path, PathBuf};

use serde_json::json;
use swarm_eval::benchmarks::live_code_bench::records::EvaluationSample;
use swarm_eval::benchmarks::{humaneval, live_code_bench};
use swarm_eval::exec::SandboxSettings;
use swarm_eval::registry::benchmark;
use swarm_eval::{DatasetArgs, EvalError, Sample};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn load(name: &str, path: PathBuf, extra: serde_json::Value) -> Result<Vec<Sample>, EvalError> {
    let args = DatasetArgs {
        local_path: Some(path),
        extra_params: extra.as_object().cloned().unwrap_or_default(),
        ..DatasetArgs::default()
    };
    benchmark(name).unwrap().load(&args)
}

fn user(s: &Sample) -> &str {
    s.messages.last().unwrap()["content"].as_str().unwrap()
}

#[test]
fn humaneval_loads_from_gzip_with_evalscopes_prompt() {
    let samples = load(
        "humaneval",
        fixtures().join("humaneval/HumanEval.jsonl.gz"),
        json!({}),
    )
    .unwrap();
    assert_eq!(samples.len(), 164);
    let first = &samples[0];
    assert_eq!(first.id, "openai_humaneval_0");
    assert_eq!(first.metadata["task_id"], "HumanEval/0");
    assert_eq!(first.metadata["entry_point"], "has_close_elements");
    assert!(user(first).starts_with("Read the following function signature and docstring, and fully implement the function described. Your response should only contain the code for this function.\nfrom typing import List\n\n\ndef has_close_elements("));
    assert!(
        first
            .gold
            .starts_with("    for idx, elem in enumerate(numbers):")
    );
    let program = humaneval::program(first, "    return True\n").unwrap();
    assert!(program.ends_with("\ncheck(has_close_elements)"));
    assert!(program.contains("\"\"\"\n    return True\n\n\n\nMETADATA"));
    let limited = DatasetArgs {
        local_path: Some(fixtures().join("humaneval")),
        limit: Some(3),
        ..DatasetArgs::default()
    };
    assert_eq!(
        benchmark("humaneval")
            .unwrap()
            .load(&limited)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn code_is_extracted_as_evalscope_extracts_it() {
    assert_eq!(
        humaneval::extract_code("```python\na = 1\n```\n```\nb = 2\n```"),
        "a = 1\n"
    );
    assert_eq!(
        humaneval::extract_code("def f():\n    return 1"),
        "def f():\n    return 1"
    );
    assert_eq!(
        humaneval::extract_code("```python a = 1```"),
        "```python a = 1```"
    );
    assert_eq!(
        live_code_bench::extract_code("x\n```python\na = 1\n```\ntext\n```py\nb = 2\n```"),
        "b = 2"
    );
    assert_eq!(
        live_code_bench::extract_code("```python\na = 1\nb = 2\n```"),
        "a = 1\nb = 2"
    );
    assert_eq!(live_code_bench::extract_code("only one ``` fence"), "");
    assert_eq!(live_code_bench::extract_code("no code"), "");
}

#[test]
fn live_code_bench_reads_the_repack_with_function_names_from_starter_code() {
    let samples = load(
        "live_code_bench",
        fixtures().join("live_code_bench/rllm_livecodebench_test_publictests.json"),
        json!({}),
    )
    .unwrap();
    assert_eq!(samples.len(), 6);
    assert_eq!(samples[0].id, "release_latest_0");
    // EvalScope's own rendering of this problem ends so
    let stdin = user(&samples[0]);
    assert!(stdin.starts_with("### Question:\nThere are three cards with letters"));
    assert!(stdin.ends_with("s from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows.\n```python\n# YOUR CODE HERE\n```\n\n ### Answer: (use the provided format with backticks)\n\n"));
    assert_eq!(
        samples[0].messages.len(),
        1,
        "v1.10.0 sends no system prompt"
    );
    let tests: EvaluationSample =
        serde_json::from_str(samples[0].metadata["evaluation_sample"].as_str().unwrap()).unwrap();
    assert_eq!(tests.fn_name, None);
    assert_eq!(tests.inputs, ["6\nabc\nacb\nbac\nbca\ncab\ncba\n"]);
    assert_eq!(tests.outputs, ["YES\nYES\nYES\nNO\nNO\nYES\n"]);

    let call = user(&samples[3]);
    assert!(call.contains("### Format: You will use the following starter code to write the solution to the problem and enclose your code within delimiters.\n```python\nclass Solution:\n    def countSeniors(self, details: List[str]) -> int:\n        \n```\n\n ### Answer:"));
    let tests: EvaluationSample =
        serde_json::from_str(samples[3].metadata["evaluation_sample"].as_str().unwrap()).unwrap();
    assert_eq!(tests.fn_name.as_deref(), Some("countSeniors"));
    assert_eq!(tests.outputs, ["2", "0"]);

    let err = load(
        "live_code_bench",
        fixtures().join("live_code_bench/rllm_livecodebench_test_publictests.json"),
        json!({"start_date": "2023-01-01"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("contest_date"), "{err}");
    let err = load(
        "live_code_bench",
        fixtures().join("live_code_bench"),
        json!({"end_date": "May 2024"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("end_date"), "{err}");
}

#[test]
fn bad_live_code_bench_records_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.jsonl");
    let good = json!({"question_content": "q", "starter_code": "", "contest_date": "2024-01-01T00:00:00",
        "public_test_cases": "[{\"input\": \"1\", \"output\": \"1\", \"testtype\": \"stdin\"}]"});
    let bad = json!({"question_content": "q", "starter_code": "", "public_test_cases": "[{\"input\": 1}]"});
    std::fs::write(&path, format!("{good}\n{bad}\n")).unwrap();
    let err = load("live_code_bench", path.clone(), json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test.jsonl:2") && err.contains("public_test_cases"),
        "{err}"
    );
    let private = json!({"question_content": "q", "starter_code": "", "public_test_cases": "[]",
        "private_test_cases": "@@@"});
    std::fs::write(&path, format!("{private}\n")).unwrap();
    let err = load("live_code_bench", path, json!({}))
        .unwrap_err()
        .to_string();
    assert!(err.contains("private_test_cases"), "{err}");
}

#[test]
fn without_a_code_runner_code_samples_fail() {
    for (name, path) in [
        ("humaneval", fixtures().join("humaneval")),
        ("live_code_bench", fixtures().join("live_code_bench")),
    ] {
        let b = benchmark(name).unwrap();
        assert!(b.runs_code());
        let s = &load(name, path, json!({})).unwrap()[0];
        let completion = format!("```python\n{}\n```", s.gold);
        let score = b.score(&b.extract(&completion, s), s);
        assert_eq!(score.values["acc"], 0.0, "{name}");
    }
    assert!(!benchmark("gsm8k").unwrap().runs_code());
}

#[test]
fn sandbox_settings_come_from_sandbox_config() {
    let args: DatasetArgs = serde_json::from_value(json!({
        "sandbox_config": {"image": "python:3.11-slim", "tools_config": {}, "allow_unisolated": true,
            "memory_mb": 512, "timeout_s": 2.5}
    }))
    .unwrap();
    let s = SandboxSettings::from_config("humaneval", &args.sandbox_config).unwrap();
    assert!(s.allow_unisolated);
    assert_eq!(s.memory_mb, 512);
    assert_eq!(
        s.timeout(std::time::Duration::from_secs(4)).as_secs_f64(),
        2.5
    );
    let default = SandboxSettings::from_config("humaneval", &Default::default()).unwrap();
    assert!(!default.allow_unisolated);
    assert_eq!(
        default.timeout(std::time::Duration::from_secs(4)).as_secs(),
        4
    );
    for bad in [
        json!({"allow_unisolated": "yes"}),
        json!({"memory_mb": 1}),
        json!({"netwrk": true}),
    ] {
        let err = SandboxSettings::from_config("humaneval", bad.as_object().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sandbox_config"), "{err}");
    }
}
