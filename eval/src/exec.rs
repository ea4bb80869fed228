//! Running generated code while scoring: the interface code benchmarks call ([`CodeRunner`]),
//! what one run is ([`ProgramRun`] → [`RunOutcome`]) and the sandbox settings a run's
//! `dataset_args.sandbox_config` carries ([`SandboxSettings`]). No process code lives here: the
//! agent's sandbox implements [`CodeRunner`].

use std::time::Duration;

use serde_json::{Map, Value};

use super::sample::EvalError;

/// One program to run: a Python source file, its standard input and its wall-clock limit.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramRun {
    /// The whole Python program (written to a file and run as `__main__`).
    pub program: String,
    /// Bytes fed to standard input (then closed).
    pub stdin: String,
    /// Wall-clock limit; the program's process group is killed when it passes.
    pub timeout: Duration,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStatus {
    /// The program exited by itself with this code.
    Exited(i32),
    /// The program was killed by this signal (not by the wall-clock limit), e.g. SIGXCPU.
    Signaled(i32),
    /// The wall-clock limit passed and the program was killed.
    TimedOut,
    /// The program could not be started; the message says why.
    Failed(String),
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// How it ended.
    pub status: RunStatus,
    /// Standard output (lossy UTF-8, cut at the runner's output limit).
    pub stdout: String,
    /// Standard error (lossy UTF-8, cut at the runner's output limit).
    pub stderr: String,
    /// Wall-clock time the run took.
    pub wall: Duration,
}

impl RunOutcome {
    /// True when the program exited with code 0 within its limits.
    pub fn ok(&self) -> bool {
        self.status == RunStatus::Exited(0)
    }
}

/// Runs untrusted programs in isolation. Calls block until the program ends; callers run them
/// off async threads.
pub trait CodeRunner: Send + Sync {
    /// Runs one program.
    fn run(&self, run: &ProgramRun) -> RunOutcome;
}

/// What scoring may use beyond the sample itself.
#[derive(Clone, Copy, Default)]
pub struct ScoreContext<'a> {
    /// Executes generated code (None: nothing can be run, code samples fail).
    pub runner: Option<&'a dyn CodeRunner>,
}

impl std::fmt::Debug for ScoreContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScoreContext")
            .field("runner", &self.runner.map(|_| "CodeRunner"))
            .finish()
    }
}

/// Sandbox settings from `dataset_args.sandbox_config` (EvalScope's key; its own keys such as
/// `image` and `tools_config` are accepted and ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxSettings {
    /// Run without namespace isolation where none is available (default false: refuse).
    pub allow_unisolated: bool,
    /// The Python interpreter (None: `python3` on PATH, else `/usr/bin/python3`).
    pub python: Option<String>,
    /// Address-space limit per program, MiB.
    pub memory_mb: u64,
    /// Largest file a program may write, MiB.
    pub file_size_mb: u64,
    /// Processes and threads a program may have at once.
    pub max_processes: u64,
    /// Output kept per stream, bytes.
    pub output_limit: usize,
    /// Replaces the benchmark's per-run timeout when given, seconds.
    pub timeout_s: Option<f64>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            allow_unisolated: false,
            python: None,
            memory_mb: 1024,
            file_size_mb: 16,
            max_processes: 16,
            output_limit: 1 << 20,
            timeout_s: None,
        }
    }
}

/// EvalScope's own `sandbox_config` keys, accepted and ignored.
const EVALSCOPE_KEYS: [&str; 4] = ["image", "tools_config", "enabled", "memory_limit"];

impl SandboxSettings {
    /// Reads the settings of `benchmark` from its `sandbox_config` map.
    pub fn from_config(benchmark: &str, config: &Map<String, Value>) -> Result<Self, EvalError> {
        let bad = |key: &str, want: &str, got: &Value| EvalError::BadArgs {
            benchmark: benchmark.to_owned(),
            message: format!("`sandbox_config.{key}` must be {want}, got {got}"),
        };
        let mut out = Self::default();
        for (key, value) in config {
            let positive = |v: &Value| v.as_u64().filter(|n| *n > 0);
            match key.as_str() {
                "allow_unisolated" => {
                    out.allow_unisolated = value
                        .as_bool()
                        .ok_or_else(|| bad(key, "true or false", value))?;
                }
                "python" => {
                    out.python = Some(
                        value
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .ok_or_else(|| bad(key, "an interpreter path", value))?
                            .to_owned(),
                    );
                }
                "memory_mb" => {
                    out.memory_mb = positive(value)
                        .filter(|n| *n >= 64)
                        .ok_or_else(|| bad(key, "an integer >= 64", value))?;
                }
                "file_size_mb" => {
                    out.file_size_mb =
                        positive(value).ok_or_else(|| bad(key, "a positive integer", value))?;
                }
                "max_processes" => {
                    out.max_processes = positive(value)
                        .filter(|n| *n <= 4096)
                        .ok_or_else(|| bad(key, "an integer in 1..=4096", value))?;
                }
                "output_limit" => {
                    out.output_limit = positive(value)
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| bad(key, "a positive integer (bytes)", value))?;
                }
                "timeout_s" => {
                    out.timeout_s = Some(
                        value
                            .as_f64()
                            .filter(|t| t.is_finite() && *t > 0.0 && *t <= 3600.0)
                            .ok_or_else(|| bad(key, "seconds in (0, 3600]", value))?,
                    );
                }
                k if EVALSCOPE_KEYS.contains(&k) => {}
                other => {
                    return Err(EvalError::BadArgs {
                        benchmark: benchmark.to_owned(),
                        message: format!(
                            "unknown `sandbox_config` key {other:?}; known: allow_unisolated, python, memory_mb, file_size_mb, max_processes, output_limit, timeout_s ({} are accepted and ignored)",
                            EVALSCOPE_KEYS.join(", ")
                        ),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The timeout of a run whose benchmark asks for `default`.
    pub fn timeout(&self, default: Duration) -> Duration {
        self.timeout_s.map_or(default, Duration::from_secs_f64)
    }
}
