//! A coordinator fault: `coordinator run` of an eval plan is killed with SIGKILL mid-eval, then
//! resumed with `--resume`. No scored sample may be generated twice, lost or duplicated.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Row;
use super::procs::{Proc, files_under};

/// Records in the gsm8k fixture × repeats.
const RECORDS: usize = 20;
const REPEATS: usize = 10;

/// Runs the coordinator row under `dir`; `fixture` is the gsm8k test file to evaluate.
pub async fn run(dir: &Path, fixture: &Path) -> Vec<Row> {
    let injected =
        "kill -9 of the coordinator mid-eval (gsm8k × 10 repeats, 2 agents), then `run --resume`";
    let expected = format!(
        "every one of {} (sample, repeat) predicted exactly once; lines written before the kill kept byte for byte",
        RECORDS * REPEATS
    );
    let row = match one(dir, fixture).await {
        Ok(o) => Row {
            group: "coordinator",
            injected: injected.to_owned(),
            expected,
            observed: format!(
                "killed with {} predictions on disk; after resume {} lines, {} distinct, {} regenerated, exit {:?}",
                o.before, o.after, o.distinct, o.changed, o.code
            ),
            lost: if o.distinct == RECORDS * REPEATS {
                "nothing".to_owned()
            } else {
                format!(
                    "{} predictions",
                    (RECORDS * REPEATS).saturating_sub(o.distinct)
                )
            },
            agent_loss: None,
            pass: o.code == Some(0)
                && o.distinct == RECORDS * REPEATS
                && o.after == o.distinct
                && o.changed == 0
                && o.before > 0
                && o.before < RECORDS * REPEATS,
        },
        Err(e) => Row::broken("coordinator", injected, &expected, &e),
    };
    vec![row]
}

struct Outcome {
    before: usize,
    after: usize,
    distinct: usize,
    changed: usize,
    code: Option<i32>,
}

async fn one(dir: &Path, fixture: &Path) -> anyhow::Result<Outcome> {
    // a run folder left by an earlier invocation would be counted as this run's predictions
    // (and resumed): the kill would land at once, before this run wrote anything
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let plan = dir.join("plan.yaml");
    std::fs::write(
        &plan,
        format!(
            r#"version: 1
name: fault-eval
agents: {{local_agents: 2}}
targets:
  - name: sim
    sim:
      model: sim-model
      latency:
        ttft_ms: {{kind: fixed, value: 60}}
        itl_ms: {{kind: fixed, value: 4}}
workloads:
  - name: math
    eval:
      target: sim
      datasets: [gsm8k]
      dataset_args:
        gsm8k: {{local_path: "{}"}}
      generation_config: {{max_tokens: 24}}
      eval_batch_size: 4
      repeats: {REPEATS}
outputs: {{dir: out}}
"#,
            fixture.display()
        ),
    )?;
    let args = |extra: &[String]| {
        let mut a = vec![
            "run".to_owned(),
            plan.to_string_lossy().into_owned(),
            "--quiet".into(),
        ];
        a.extend_from_slice(extra);
        a
    };
    let mut first = Proc::start("coordinator", &args(&[]), &dir.join("coordinator-1.log"))?;
    let out = dir.join("out");
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if prediction_lines(&out).len() >= RECORDS * REPEATS / 3 {
            break;
        }
        if let Some(code) = first.wait_for(Duration::ZERO)? {
            anyhow::bail!(
                "the first run exited ({code}) with {} predictions on disk, before the kill",
                prediction_lines(&out).len()
            );
        }
        anyhow::ensure!(
            Instant::now() < until,
            "a third of the predictions were not on disk after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let finished_first = first.wait_for(Duration::ZERO)?;
    first.kill9();
    anyhow::ensure!(
        finished_first.is_none(),
        "the first run had finished (exit {finished_first:?}) when the kill came"
    );
    // what the kill left on disk, torn last line included
    let before_lines = prediction_lines(&out);
    let run_dir = run_dir(&out)?;
    let mut second = Proc::start(
        "coordinator",
        &args(&["--resume".into(), run_dir.to_string_lossy().into_owned()]),
        &dir.join("coordinator-2.log"),
    )?;
    let code = tokio::task::block_in_place(|| second.wait_for(Duration::from_secs(180)))?;
    let after_lines = prediction_lines(&out);
    let mut keys = BTreeSet::new();
    let mut by_key = BTreeMap::new();
    for line in &after_lines {
        if let Some(k) = key(line) {
            keys.insert(k.clone());
            by_key.entry(k).or_insert_with(|| line.clone());
        }
    }
    // a complete line written before the kill must still be there, unchanged
    let changed = before_lines
        .iter()
        .filter(|l| key(l).is_some())
        .filter(|l| !after_lines.contains(l))
        .count();
    Ok(Outcome {
        before: before_lines.iter().filter(|l| key(l).is_some()).count(),
        after: after_lines.iter().filter(|l| key(l).is_some()).count(),
        distinct: keys.len(),
        changed,
        code,
    })
}

/// The one run folder under `out`.
fn run_dir(out: &Path) -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.pop()
        .ok_or_else(|| anyhow::anyhow!("no run folder under {}", out.display()))
}

/// Every line of every predictions file under `dir`.
fn prediction_lines(dir: &Path) -> Vec<String> {
    let files = files_under(dir, |p| {
        p.components().any(|c| c.as_os_str() == "predictions")
            && p.extension().is_some_and(|x| x == "jsonl")
    });
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// The (sample, repeat) a complete prediction line is for.
fn key(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let swarm = v.get("swarm");
    let id = swarm
        .and_then(|s| s.get("sample_id"))
        .or_else(|| v.get("index"))?
        .to_string();
    let repeat = swarm
        .and_then(|s| s.get("repeat"))
        .map(|r| r.to_string())
        .unwrap_or_default();
    Some(format!("{id}#{repeat}"))
}
