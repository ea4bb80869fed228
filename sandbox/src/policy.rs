//! What an agent's own command line lets the code sandbox do. A shard spec (the coordinator's,
//! or the plan's) may narrow it, never widen it: running model-written code without isolation,
//! or with an interpreter the spec names, needs the agent's own opt-in. The policy also names
//! the agent's secret files, which no sandboxed program may see.

use std::path::PathBuf;

use swarm_eval::exec::SandboxSettings;

/// The agent's sandbox policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxPolicy {
    /// `--allow-unisolated-code`: a spec may ask to run code without isolation where none is
    /// available.
    pub allow_unisolated: bool,
    /// `--python PATH`: the interpreter every sandbox of this agent uses (a spec may not name
    /// another).
    pub python: Option<String>,
    /// Files and folders hidden from every sandboxed program (the agent's `--token-file`,
    /// `--tls-key`, `--tls-cert` and CA files): a hidden file reads as empty, a hidden folder
    /// cannot be listed.
    pub hidden_paths: Vec<PathBuf>,
}

/// A spec asked for more than the agent allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPermitted {
    /// Unisolated code without `--allow-unisolated-code`.
    #[error(
        "agent {agent}: the spec asks to run code without isolation (sandbox_config.allow_unisolated), which this agent does not allow; start the agent with --allow-unisolated-code to permit it"
    )]
    Unisolated {
        /// The agent.
        agent: String,
    },
    /// An interpreter named by the spec.
    #[error(
        "agent {agent}: the spec names the interpreter {python:?} (sandbox_config.python); an agent runs only the interpreter of its own --python"
    )]
    Python {
        /// The agent.
        agent: String,
        /// What the spec named.
        python: String,
    },
}

impl SandboxPolicy {
    /// Everything the settings ask (the coordinator re-scoring on the user's own machine).
    pub fn trusted() -> Self {
        Self {
            allow_unisolated: true,
            python: None,
            hidden_paths: Vec::new(),
        }
    }

    /// `settings` as this agent runs them, or why it will not.
    pub fn apply(
        &self,
        agent: &str,
        mut settings: SandboxSettings,
    ) -> Result<SandboxSettings, NotPermitted> {
        if settings.allow_unisolated && !self.allow_unisolated {
            return Err(NotPermitted::Unisolated {
                agent: agent.to_string(),
            });
        }
        // what `trusted` allows (the secrets it hides do not matter here)
        if self.allow_unisolated && self.python.is_none() {
            return Ok(settings);
        }
        match (&settings.python, &self.python) {
            (Some(asked), Some(own)) if asked != own => {
                return Err(NotPermitted::Python {
                    agent: agent.to_string(),
                    python: asked.clone(),
                });
            }
            (Some(asked), None) => {
                return Err(NotPermitted::Python {
                    agent: agent.to_string(),
                    python: asked.clone(),
                });
            }
            _ => settings.python = self.python.clone(),
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_cannot_widen_the_agents_policy() {
        let strict = SandboxPolicy::default();
        let asks_unisolated = SandboxSettings {
            allow_unisolated: true,
            ..Default::default()
        };
        let e = strict.apply("a1", asks_unisolated.clone()).unwrap_err();
        assert!(e.to_string().contains("--allow-unisolated-code"), "{e}");
        let open = SandboxPolicy {
            allow_unisolated: true,
            python: None,
            ..Default::default()
        };
        assert!(open.apply("a1", asks_unisolated).is_ok());

        let asks_python = SandboxSettings {
            python: Some("/tmp/evil".into()),
            ..Default::default()
        };
        assert!(matches!(
            strict.apply("a1", asks_python.clone()),
            Err(NotPermitted::Python { .. })
        ));
        let own = SandboxPolicy {
            allow_unisolated: false,
            python: Some("/usr/bin/python3".into()),
            ..Default::default()
        };
        assert!(own.apply("a1", asks_python).is_err());
        let s = own
            .apply("a1", SandboxSettings::default())
            .expect("allowed");
        assert_eq!(s.python.as_deref(), Some("/usr/bin/python3"));
        assert!(
            SandboxPolicy::trusted()
                .apply(
                    "local",
                    SandboxSettings {
                        python: Some("/x".into()),
                        allow_unisolated: true,
                        ..Default::default()
                    }
                )
                .is_ok()
        );
    }
}
