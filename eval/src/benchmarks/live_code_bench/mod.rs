//! LiveCodeBench (code generation): EvalScope's canonical `code_generation_lite` records or the
//! rllm re-pack with public tests (see [`records`]).
//!
//! Prompt: EvalScope v1.10.0's template (no system prompt) with the starter-code or stdin
//! format block. `limit` applies to the records, then `extra_params.start_date` / `end_date`
//! (`YYYY-MM-DD`, inclusive) filter on `contest_date`. Extraction: the lines between the last
//! two lines containing ```` ``` ```` (`''` with fewer). Scoring runs every test in the code
//! sandbox ([`grade`]); `acc` is 1 iff all pass. Aggregation: mean and pass@k.

pub mod compare;
pub mod grade;
pub mod private_tests;
pub mod records;

use serde_json::Value;

use super::code::CodeBenchmark;
use super::source::eval_files;
use super::template::render;
use super::{SampleParts, messages, metadata, select_subsets, zero_shot_only};
use crate::exec::CodeRunner;
use crate::sample::{BenchmarkMeta, DatasetArgs, EvalError, Sample};
use records::{EvaluationSample, in_dates, read_problems};

const NAME: &str = "live_code_bench";
const DEFAULT_SUBSET: &str = "release_latest";

/// EvalScope's prompt.
pub const PROMPT_TEMPLATE: &str = "### Question:\n{question_content}\n\n{format_prompt} ### Answer: (use the provided format with backticks)\n\n";

/// The format block of a problem with starter code.
pub const FORMAT_WITH_STARTER: &str = "### Format: You will use the following starter code to write the solution to the problem and enclose your code within delimiters.\n```python\n{starter_code}\n```\n\n";

/// The format block of a standard-input problem.
pub const FORMAT_STDIN: &str = "### Format: Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows.\n```python\n# YOUR CODE HERE\n```\n\n";

/// EvalScope's subsets (release tags); a local file holds one release, so every subset reads
/// the same records.
pub const SUBSETS: [&str; 28] = [
    "release_latest",
    "release_v1",
    "release_v2",
    "release_v3",
    "release_v4",
    "release_v5",
    "release_v6",
    "v1",
    "v1_v2",
    "v1_v3",
    "v1_v4",
    "v1_v5",
    "v1_v6",
    "v2",
    "v2_v3",
    "v2_v4",
    "v2_v5",
    "v2_v6",
    "v3",
    "v3_v4",
    "v3_v5",
    "v3_v6",
    "v4",
    "v4_v5",
    "v4_v6",
    "v5",
    "v5_v6",
    "v6",
];

/// LiveCodeBench.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveCodeBench;

/// EvalScope's extraction: the lines between the last two lines that contain ```` ``` ````.
pub fn extract_code(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let fences: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("```"))
        .map(|(i, _)| i)
        .collect();
    match fences.as_slice() {
        [.., open, close] => lines[open + 1..*close].join("\n"),
        _ => String::new(),
    }
}

/// The user prompt of a problem.
pub fn prompt(question_content: &str, starter_code: &str) -> String {
    let format_prompt = if starter_code.is_empty() {
        FORMAT_STDIN.to_owned()
    } else {
        render(FORMAT_WITH_STARTER, &[("starter_code", starter_code)])
    };
    render(
        PROMPT_TEMPLATE,
        &[
            ("question_content", question_content),
            ("format_prompt", &format_prompt),
        ],
    )
}

fn date_param<'a>(args: &'a DatasetArgs, key: &str) -> Result<Option<&'a str>, EvalError> {
    match args.extra_params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s))
            if s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                }) =>
        {
            Ok(Some(s))
        }
        Some(other) => Err(EvalError::BadArgs {
            benchmark: NAME.to_owned(),
            message: format!("`extra_params.{key}` must be a date YYYY-MM-DD, got {other}"),
        }),
    }
}

impl CodeBenchmark for LiveCodeBench {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "Live-Code-Bench",
            task_type: "code",
            metrics: vec!["acc"],
            subsets: SUBSETS.iter().map(|s| (*s).to_owned()).collect(),
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(NAME, args)?;
        let all: Vec<String> = SUBSETS.iter().map(|s| (*s).to_owned()).collect();
        let subsets = if args.subset_list.is_empty() {
            vec![DEFAULT_SUBSET.to_owned()]
        } else {
            select_subsets(NAME, &all, args)?
        };
        let (start, end) = (
            date_param(args, "start_date")?,
            date_param(args, "end_date")?,
        );
        let files = eval_files(
            NAME,
            args,
            &["test.jsonl", "rllm_livecodebench_test_publictests.json"],
            &[".jsonl", ".json"],
            "LiveCodeBench records (JSON lines or a JSON array)",
        )?;
        let mut problems = read_problems(NAME, &files)?;
        if let Some(limit) = args.limit {
            problems.truncate(limit);
        }
        if start.is_some() || end.is_some() {
            if problems.iter().any(|p| p.contest_date.is_none()) {
                return Err(EvalError::BadArgs {
                    benchmark: NAME.to_owned(),
                    message: "start_date / end_date filter on contest_date, which these records lack (the rllm re-pack has no dates)".to_owned(),
                });
            }
            problems.retain(|p| {
                p.contest_date
                    .as_deref()
                    .is_some_and(|d| in_dates(d, start, end))
            });
        }
        let mut out = Vec::new();
        for subset in &subsets {
            for (index, p) in problems.iter().enumerate() {
                let evaluation =
                    serde_json::to_string(&p.tests).map_err(|e| EvalError::BadArgs {
                        benchmark: NAME.to_owned(),
                        message: format!("cannot encode tests: {e}"),
                    })?;
                let date = p.contest_date.clone().map_or(Value::Null, Value::String);
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(
                            NAME,
                            prompt(&p.question_content, &p.starter_code),
                            args,
                        )?,
                        gold: String::new(),
                        choices: Vec::new(),
                        metadata: metadata([
                            ("evaluation_sample", Value::String(evaluation)),
                            ("contest_date", date),
                        ]),
                    }
                    .build(),
                );
            }
        }
        Ok(out)
    }

    fn extract_code(&self, completion: &str) -> String {
        extract_code(completion)
    }

    fn passes(&self, code: &str, sample: &Sample, runner: &dyn CodeRunner) -> bool {
        sample
            .metadata
            .get("evaluation_sample")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<EvaluationSample>(s).ok())
            .is_some_and(|tests| grade::passes(code, &tests, runner))
    }
}
