//! Running a solution against its tests in the code sandbox: call-based tests through the
//! bundled harness, standard-input tests by feeding the program and comparing what it prints.
//! Every test is one sandboxed run with its own time limit; the first failure ends grading.

use std::time::Duration;

use serde_json::json;

use super::compare::stdio_matches;
use super::records::EvaluationSample;
use crate::exec::{CodeRunner, ProgramRun};

/// The imports and recursion limit LiveCodeBench puts before every solution.
pub const PRELUDE: &str = include_str!("prelude.py");

/// The call-based test harness (reads the solution and one test as JSON on stdin).
pub const CALL_HARNESS: &str = include_str!("call_harness.py");

/// Per-test wall-clock limit.
pub const TIMEOUT: Duration = Duration::from_secs(6);

/// True when `code` passes every test (false for empty code or no tests).
pub fn passes(code: &str, tests: &EvaluationSample, runner: &dyn CodeRunner) -> bool {
    if code.trim().is_empty()
        || tests.inputs.is_empty()
        || tests.inputs.len() != tests.outputs.len()
    {
        return false;
    }
    let cases = tests.inputs.iter().zip(&tests.outputs);
    match &tests.fn_name {
        Some(fn_name) => {
            let code = format!("{PRELUDE}\n\n{code}");
            cases.into_iter().all(|(input, output)| {
                let payload =
                    json!({"code": code, "fn_name": fn_name, "input": input, "output": output});
                runner
                    .run(&ProgramRun {
                        program: CALL_HARNESS.to_owned(),
                        stdin: payload.to_string(),
                        timeout: TIMEOUT,
                    })
                    .ok()
            })
        }
        None => {
            let program = format!("{PRELUDE}\n{code}");
            cases.into_iter().all(|(input, output)| {
                let out = runner.run(&ProgramRun {
                    program: program.clone(),
                    stdin: input.clone(),
                    timeout: TIMEOUT,
                });
                out.ok() && stdio_matches(&out.stdout, output)
            })
        }
    }
}
