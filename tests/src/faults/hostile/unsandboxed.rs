//! A run that asks an agent which did not opt in to run model-written code without isolation.

use std::path::Path;
use std::time::Duration;

use crate::faults::Row;
use crate::faults::procs::{files_under, free_port, run_plan, start_agent, wait_listening};

use super::agent::{prediction_files, start_sim};
use super::fresh;

pub(super) async fn row(dir: &Path, gsm8k: &Path) -> Row {
    let injected = "coordinator: a plan asks the agent to run model-written code without isolation (humaneval, sandbox_config.allow_unisolated: true); the agent was started without --allow-unisolated-code";
    let expected = "refused by the agent; the run fails and run.json and report.html say why (--allow-unisolated-code); no code run";
    match unsandboxed_one(dir, gsm8k).await {
        Ok(o) => Row {
            group: "hostile",
            injected: injected.to_owned(),
            expected: expected.to_owned(),
            observed: format!(
                "exit {:?}; run.json failure: {}; report.html says why: {}; predictions kept: {}",
                o.code,
                if o.failure.is_empty() {
                    "none".to_owned()
                } else {
                    o.failure.clone()
                },
                if o.in_report { "yes" } else { "no" },
                o.kept
            ),
            lost: "nothing (nothing was to be measured)".to_owned(),
            agent_loss: None,
            pass: o.code.is_some_and(|c| c != 0)
                && o.failure.contains("--allow-unisolated-code")
                && o.in_report
                && o.kept == 0,
        },
        Err(e) => Row::broken("hostile", injected, expected, &e),
    }
}

struct Unsandboxed {
    code: Option<i32>,
    failure: String,
    in_report: bool,
    kept: usize,
}

async fn unsandboxed_one(dir: &Path, gsm8k: &Path) -> anyhow::Result<Unsandboxed> {
    fresh(dir)?;
    let humaneval = gsm8k
        .parent()
        .and_then(Path::parent)
        .map(|p| p.join("humaneval"))
        .ok_or_else(|| anyhow::anyhow!("no humaneval fixture beside {}", gsm8k.display()))?;
    let sim = start_sim().await?;
    let port = free_port()?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: hostile-unsandboxed
agents: {{min_agents: 1, wait_s: 30}}
coordinator: {{listen: "127.0.0.1:{port}", token_file: token}}
targets:
  - name: sim
    url: {}/v1/chat/completions
    model: sim-model
    timeouts: {{connect_s: 5, read_s: 5, total_s: 30}}
workloads:
  - name: code
    eval:
      target: sim
      datasets: [humaneval]
      dataset_args:
        humaneval: {{local_path: "{}", sandbox_config: {{allow_unisolated: true}}}}
      generation_config: {{max_tokens: 8}}
      limit: 2
outputs: {{dir: out}}
"#,
            sim.url(),
            humaneval.display()
        ),
    )?;
    let mut coord = run_plan(&plan)?;
    wait_listening(port, Duration::from_secs(20))?;
    let _a1 = start_agent(dir, port, "a1", &dir.join("token"))?;
    let code = tokio::task::block_in_place(|| coord.wait_for(Duration::from_secs(180)))?;
    sim.shutdown().await;
    anyhow::ensure!(code.is_some(), "the coordinator did not finish in 180 s");
    let out = dir.join("out");
    let run_json = files_under(&out, |p| p.file_name().is_some_and(|n| n == "run.json"));
    let record: serde_json::Value = match run_json.first() {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?)?,
        None => serde_json::Value::Null,
    };
    let failure = record["failures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let report = files_under(&out, |p| p.file_name().is_some_and(|n| n == "report.html"));
    let in_report = report
        .first()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .is_some_and(|h| h.contains("--allow-unisolated-code"));
    let kept = prediction_files(&out)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim().is_empty() && !l.contains("\"error\":\""))
                .count()
        })
        .sum();
    Ok(Unsandboxed {
        code,
        failure: failure.chars().take(300).collect(),
        in_report,
        kept,
    })
}
