//! HumanEval (`openai/human-eval` `HumanEval.jsonl(.gz)`: `task_id`, `prompt`, `entry_point`,
//! `canonical_solution`, `test`).
//!
//! Prompt: EvalScope's template around the record's prompt. Extraction: the first fenced code
//! block, else the whole text. Scoring runs `prompt + code + "\n" + test + "\n" +
//! "check(<entry_point>)"` in the code sandbox with a 4 s limit; the sample passes (`acc` 1)
//! iff the program exits cleanly. Aggregation: mean and pass@k.

use std::sync::OnceLock;
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::code::CodeBenchmark;
use super::source::{eval_files, read_all};
use super::template::render;
use super::{SampleParts, by_subset, messages, metadata, select_subsets, zero_shot_only};
use crate::exec::{CodeRunner, ProgramRun};
use crate::sample::{BenchmarkMeta, DatasetArgs, EvalError, Sample};

const NAME: &str = "humaneval";
const SUBSET: &str = "openai_humaneval";

/// EvalScope's prompt.
pub const PROMPT_TEMPLATE: &str = "Read the following function signature and docstring, and fully implement the function described. Your response should only contain the code for this function.\n{question}";

/// The per-program wall-clock limit.
pub const TIMEOUT: Duration = Duration::from_secs(4);

/// HumanEval.
#[derive(Debug, Clone, Copy, Default)]
pub struct HumanEval;

/// EvalScope's extraction: the first block of ```` ```lang\n...``` ````, else the text itself.
pub fn extract_code(text: &str) -> String {
    static FENCE: OnceLock<Regex> = OnceLock::new();
    let fence = FENCE.get_or_init(|| Regex::new(r"(?s)```\w*\n(.*?)```").expect("valid regex"));
    match fence.captures(text).and_then(|c| c.get(1)) {
        Some(m) => m.as_str().to_owned(),
        None => text.to_owned(),
    }
}

/// The program that checks `code` against a sample's tests.
pub fn program(sample: &Sample, code: &str) -> Option<String> {
    let field = |k: &str| sample.metadata.get(k).and_then(Value::as_str);
    Some(format!(
        "{}{code}\n{}\ncheck({})",
        field("prompt")?,
        field("test")?,
        field("entry_point")?
    ))
}

impl CodeBenchmark for HumanEval {
    fn meta(&self) -> BenchmarkMeta {
        BenchmarkMeta {
            name: NAME,
            pretty_name: "HumanEval",
            task_type: "code",
            metrics: vec!["acc"],
            subsets: vec![SUBSET.to_owned()],
            few_shot_num: 0,
            eval_split: "test",
            train_split: "",
        }
    }

    fn load(&self, args: &DatasetArgs) -> Result<Vec<Sample>, EvalError> {
        zero_shot_only(NAME, args)?;
        let subsets = select_subsets(NAME, &[SUBSET.to_owned()], args)?;
        let files = eval_files(
            NAME,
            args,
            &["HumanEval.jsonl", "HumanEval.jsonl.gz", "test.jsonl"],
            &[".jsonl", ".jsonl.gz"],
            "HumanEval JSONL (task_id, prompt, entry_point, canonical_solution, test)",
        )?;
        let mut items = Vec::new();
        for r in read_all(NAME, &files)? {
            let record = (
                r.str("task_id")?.to_owned(),
                r.str("prompt")?.to_owned(),
                r.str("entry_point")?.to_owned(),
                r.str("canonical_solution")?.to_owned(),
                r.str("test")?.to_owned(),
            );
            items.push((SUBSET.to_owned(), record));
        }
        let mut out = Vec::new();
        for (subset, records) in by_subset(&subsets, items, args.limit) {
            for (index, (task_id, prompt, entry_point, solution, test)) in
                records.into_iter().enumerate()
            {
                out.push(
                    SampleParts {
                        benchmark: NAME,
                        subset: subset.clone(),
                        index,
                        messages: messages(
                            NAME,
                            render(PROMPT_TEMPLATE, &[("question", &prompt)]),
                            args,
                        )?,
                        gold: solution,
                        choices: Vec::new(),
                        metadata: metadata([
                            ("task_id", Value::String(task_id)),
                            ("entry_point", Value::String(entry_point)),
                            ("prompt", Value::String(prompt)),
                            ("test", Value::String(test)),
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
        program(sample, code).is_some_and(|program| {
            runner
                .run(&ProgramRun {
                    program,
                    stdin: String::new(),
                    timeout: TIMEOUT,
                })
                .ok()
        })
    }
}
