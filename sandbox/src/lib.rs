//! The code sandbox: runs untrusted Python programs (generated code under test) one process per
//! run, each in a fresh folder, without network, in a PID namespace of its own (everything in it
//! dies when the program ends), with the file system read-only outside that folder and host
//! sockets, shared memory and the agent's secret files out of sight, under a user id other than
//! the agent's (as root; as another user where it has subordinate ids, see [`subids`]), under a
//! system-call filter and CPU, memory, file-size and process limits, in a session of its own
//! whose process group is killed when the run ends or its wall-clock time passes.
//! `docs/SECURITY.md` lists each escape this stops and the test that tries it.
//!
//! Where no isolation is available the sandbox refuses to start unless the user opted in with
//! `sandbox_config.allow_unisolated`. Runs block; at most [`slots::capacity`] run at once in a
//! process, and callers run them off async threads (`spawn_blocking`).

pub mod batch;
pub mod isolation;
pub mod limits;
pub mod mounts;
pub mod pidns;
pub mod policy;
pub mod process;
pub mod seccomp;
pub mod slots;
pub mod subids;
pub mod workdir;

use std::path::{Path, PathBuf};
use std::time::Duration;

use swarm_eval::exec::{CodeRunner, ProgramRun, RunOutcome, RunStatus, SandboxSettings};

use isolation::{Become, ChildSetup, Isolation};
use limits::Limits;
use slots::Slot;
use subids::{MapRequest, ProgramIds, SubIds};
use workdir::WorkDir;

/// How a failure to prepare the isolation (before any process starts) begins.
const SETUP: &str = "sandbox setup";

/// Why a sandbox cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No isolation works here and the user did not opt in to running without it.
    #[error(
        "the code sandbox cannot isolate programs here ({reason}); refusing to run untrusted code. Run the agent where network/mount namespaces are allowed (root, or unprivileged user namespaces), or set dataset_args.<benchmark>.sandbox_config.allow_unisolated: true to run without isolation"
    )]
    NoIsolation {
        /// What failed.
        reason: String,
    },
    /// No usable Python interpreter.
    #[error("no usable python interpreter for the code sandbox: {tried}")]
    NoPython {
        /// Each interpreter tried and why it failed.
        tried: String,
    },
}

/// Runs untrusted Python programs in isolation (see the module docs).
#[derive(Debug, Clone)]
pub struct Sandbox {
    settings: SandboxSettings,
    isolation: Isolation,
    /// The ids programs run as, outside their namespaces.
    ids: ProgramIds,
    python: PathBuf,
    /// Files and folders the programs may not see (the agent's token, key and certificate
    /// files).
    hidden: Vec<PathBuf>,
}

impl Sandbox {
    /// A sandbox with `settings`: picks the isolation and the interpreter, and checks both with
    /// a probe program.
    pub fn new(settings: SandboxSettings) -> Result<Self, SandboxError> {
        Self::with_hidden_paths(settings, Vec::new())
    }

    /// [`Sandbox::new`], with `hidden` files and folders (the agent's secrets: token, key and
    /// certificate files) out of its programs' sight: a hidden file reads as empty, a hidden
    /// folder cannot be listed. The isolated modes only.
    pub fn with_hidden_paths(
        settings: SandboxSettings,
        hidden: Vec<PathBuf>,
    ) -> Result<Self, SandboxError> {
        let candidates = interpreters(&settings);
        let mut tried = Vec::new();
        let mut isolation_failures = Vec::new();
        let mut modes = vec![Isolation::preferred()];
        if settings.allow_unisolated {
            modes.push(Isolation::None);
        }
        // why programs did not start under subordinate ids, where the agent's user has some
        let mut subordinate_failed: Option<String> = None;
        for isolation in modes {
            for ids in ids_to_try(isolation) {
                let ids = match (ids, &subordinate_failed) {
                    (ProgramIds::Unmapped { uid, reason }, Some(why)) => ProgramIds::Unmapped {
                        uid,
                        reason: format!("{reason}: {why}"),
                    },
                    (ids, _) => ids,
                };
                let subordinate = matches!(ids, ProgramIds::Subordinate(_));
                let mut first_failure = None;
                // a failure under subordinate ids is told by the unmapped attempt that follows
                // (in its reason); only that attempt's failures decide the error
                let (mut tried_here, mut failed_here) = (Vec::new(), Vec::new());
                let started = Self::try_each(
                    &settings,
                    isolation,
                    &ids,
                    &candidates,
                    &hidden,
                    if subordinate {
                        &mut tried_here
                    } else {
                        &mut tried
                    },
                    if subordinate {
                        &mut failed_here
                    } else {
                        &mut isolation_failures
                    },
                    &mut first_failure,
                );
                if let Some(sandbox) = started {
                    sandbox.announce();
                    return Ok(sandbox);
                }
                if subordinate {
                    subordinate_failed = first_failure;
                }
            }
        }
        if !settings.allow_unisolated
            && !isolation_failures.is_empty()
            && isolation_failures.len() == tried.len()
        {
            return Err(SandboxError::NoIsolation {
                reason: isolation_failures.join("; "),
            });
        }
        Err(SandboxError::NoPython {
            tried: tried.join("; "),
        })
    }

    /// The first interpreter of `candidates` whose probe passes with `isolation` and `ids`;
    /// each failure is noted in `tried` (and `isolation_failures` when the isolation failed).
    #[allow(clippy::too_many_arguments)]
    fn try_each(
        settings: &SandboxSettings,
        isolation: Isolation,
        ids: &ProgramIds,
        candidates: &[PathBuf],
        hidden: &[PathBuf],
        tried: &mut Vec<String>,
        isolation_failures: &mut Vec<String>,
        first_failure: &mut Option<String>,
    ) -> Option<Self> {
        for python in candidates {
            let sandbox = Self {
                settings: settings.clone(),
                isolation,
                ids: ids.clone(),
                python: python.clone(),
                hidden: hidden.to_vec(),
            };
            match sandbox.probe() {
                Ok(()) => return Some(sandbox),
                Err(why) => {
                    if first_failure.is_none() {
                        *first_failure = Some(why.clone());
                    }
                    // a missing or unreadable interpreter is not an isolation failure
                    let interpreter = !python.is_file()
                        || why.contains("(os error 2)")
                        || why.contains("(os error 13)");
                    let setup = why.contains("cannot start") || why.starts_with(SETUP);
                    if isolation != Isolation::None && setup && !interpreter {
                        isolation_failures.push(format!("{}: {why}", isolation.name()));
                    }
                    tried.push(format!(
                        "{} ({}, programs as {ids}): {why}",
                        python.display(),
                        isolation.name(),
                    ));
                }
            }
        }
        None
    }

    /// Logs the isolation and the ids programs run as (once per process for each different
    /// line): a warning where programs run as the agent's own user although it has a
    /// subordinate range.
    fn announce(&self) {
        static LAST: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
        let line = format!("{} / {}", self.isolation.name(), self.ids);
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if *last == line {
            return;
        }
        line.clone_into(&mut last);
        let isolation = self.isolation.name();
        match &self.ids {
            ProgramIds::Unmapped { reason, .. } if reason.contains(SUBORDINATE_FAILED) => {
                tracing::warn!(isolation, runs_as = %self.ids, "code sandbox: programs run as the agent's own user");
            }
            ids => tracing::info!(isolation, runs_as = %ids, "code sandbox ready"),
        }
    }

    /// The isolation in use.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The ids programs run as outside their namespaces (in non-root mode: a subordinate id, or
    /// the agent's own and why).
    pub fn program_ids(&self) -> &ProgramIds {
        &self.ids
    }

    /// The interpreter in use.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// The files and folders hidden from programs.
    pub fn hidden_paths(&self) -> &[PathBuf] {
        &self.hidden
    }

    /// The settings.
    pub fn settings(&self) -> &SandboxSettings {
        &self.settings
    }

    fn probe(&self) -> Result<(), String> {
        let out = self.run(&ProgramRun {
            program: "print('sandbox-ok')\n".into(),
            stdin: String::new(),
            timeout: Duration::from_secs(10),
        });
        if out.ok() && out.stdout.trim() == "sandbox-ok" {
            return Ok(());
        }
        Err(match out.status {
            RunStatus::Failed(m) => m,
            other => format!(
                "probe program ended with {other:?}: {}",
                out.stderr.trim().lines().last().unwrap_or("no output")
            ),
        })
    }

    fn failed(message: String) -> RunOutcome {
        RunOutcome {
            status: RunStatus::Failed(message),
            stdout: String::new(),
            stderr: String::new(),
            wall: Duration::ZERO,
        }
    }
}

impl CodeRunner for Sandbox {
    fn run(&self, run: &ProgramRun) -> RunOutcome {
        let slot = Slot::acquire();
        let root = self.isolation == Isolation::Root;
        let uid = slot.uid();
        let dir = match WorkDir::create(root.then_some(uid)) {
            Ok(d) => d,
            Err(e) => return Self::failed(format!("sandbox folder: {e}")),
        };
        let script = "main.py";
        if let Err(e) = std::fs::write(dir.path().join(script), &run.program) {
            return Self::failed(format!("cannot write the program: {e}"));
        }
        let (run_as, map) = match (self.isolation, &self.ids) {
            (Isolation::Root, _) => (Become::Uid(uid), None),
            (Isolation::UserNamespace, ProgramIds::Subordinate(ids)) => {
                let (uid, gid) = (ids.uid_for(slot.index()), ids.gid_for(slot.index()));
                match MapRequest::new(ids, uid, gid) {
                    Ok(map) => (
                        Become::Subordinate {
                            uid,
                            gid,
                            ends: map.child_ends(),
                        },
                        Some(map),
                    ),
                    Err(e) => return Self::failed(format!("{SETUP}: id-mapping pipes: {e}")),
                }
            }
            _ => (Become::Agent, None),
        };
        // the folder of a program under subordinate ids: a tmpfs of 4 files of the largest size
        let private_size = self
            .settings
            .file_size_mb
            .saturating_mul(4 << 20)
            .min(1 << 40);
        let setup = match ChildSetup::new(
            self.isolation,
            dir.path(),
            run_as,
            &self.hidden,
            Some((private_size, &[script])),
        ) {
            Ok(s) => s,
            Err(e) => return Self::failed(format!("{SETUP}: {e}")),
        };
        let timeout = self.settings.timeout(run.timeout);
        process::run(process::Launch {
            python: &self.python,
            script,
            workdir: dir.path(),
            stdin: run.stdin.as_bytes(),
            timeout,
            limits: Limits::new(&self.settings, timeout),
            setup,
            output_limit: self.settings.output_limit,
            sweep_uid: root.then_some(uid),
            map,
        })
    }
}

/// What [`ProgramIds::Unmapped`] says where the subordinate ids exist but failed the probe.
const SUBORDINATE_FAILED: &str = "but its programs do not start under them";

/// The ids to try programs under with `isolation`, best first: in non-root mode a subordinate
/// id where the agent's user has a range, then (or else) the agent's own.
fn ids_to_try(isolation: Isolation) -> Vec<ProgramIds> {
    match isolation {
        Isolation::Root => vec![ProgramIds::Slot],
        Isolation::None => vec![ProgramIds::Agent],
        Isolation::UserNamespace => {
            // SAFETY: getuid has no preconditions.
            let uid = unsafe { libc::getuid() };
            match SubIds::lookup() {
                Ok(ids) => {
                    let reason = format!(
                        "{} has subordinate ids ({}), {SUBORDINATE_FAILED}",
                        ids.user,
                        ids.uid_for(0)
                    );
                    vec![
                        ProgramIds::Subordinate(ids),
                        ProgramIds::Unmapped { uid, reason },
                    ]
                }
                Err(reason) => vec![ProgramIds::Unmapped { uid, reason }],
            }
        }
    }
}

/// The interpreters to try: the configured one, else `python3` on PATH, `/usr/bin/python3`
/// and `/usr/local/bin/python3` (an interpreter under a private home is not usable by the
/// sandbox's own user id).
fn interpreters(settings: &SandboxSettings) -> Vec<PathBuf> {
    if let Some(p) = &settings.python {
        let path = Path::new(p);
        return vec![if path.components().count() > 1 {
            path.to_owned()
        } else {
            which(p).unwrap_or_else(|| path.to_owned())
        }];
    }
    let mut out = Vec::new();
    for candidate in [
        which("python3"),
        Some(PathBuf::from("/usr/bin/python3")),
        Some(PathBuf::from("/usr/local/bin/python3")),
    ]
    .into_iter()
    .flatten()
    {
        if candidate.is_file() && !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    if out.is_empty() {
        out.push(PathBuf::from("python3"));
    }
    out
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}
