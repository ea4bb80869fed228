//! Every command that makes a run folder writes `run.json` with its kind and a final status, on
//! the real binary: perf, eval, eval --rescore, run (a plan), think-eval; a plan run under
//! `--run-dir` continues the run of that plan it finds there and refuses another plan's folder.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use swarm_coordinator::run_store::record::{RunKind, RunRecord, RunStatus};
use swarm_tests::{eval_fixture, start_sim};

fn coordinator(dir: &Path, args: &[&str]) -> Output {
    Command::new(swarm_tests::workspace_bin("coordinator"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("coordinator runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_ended(r: &RunRecord, kind: RunKind, status: RunStatus) {
    assert_eq!((r.kind, r.status), (kind, status), "{r:?}");
    assert!(r.ended_at.is_some(), "{r:?}");
    assert!(r.outcome.is_some(), "{r:?}");
    assert!(r.started_at <= r.updated_at, "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_records_its_kind_and_final_status() {
    let sim = start_sim(llm_sim::SimConfig::instant()).await;
    let url = format!("{}/v1/chat/completions", sim.url());
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();

    // perf: done
    std::fs::write(dir.join("p.txt"), "hello\nsecond prompt\n").expect("dataset");
    let o = coordinator(
        dir,
        &[
            "perf",
            "--url",
            &url,
            "--dataset",
            "line_by_line",
            "--dataset-path",
            "p.txt",
            "--number",
            "4",
            "--max-tokens",
            "2",
            "--outputs-dir",
            "perf-out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let perf = swarm_tests::run_record(&swarm_tests::only_run(&dir.join("perf-out")));
    assert_ended(&perf, RunKind::Perf, RunStatus::Done);
    assert_eq!(perf.workloads["perf"][0].summary.total_requests, 4);

    // perf against a closed port: the pre-flight check fails it, and run.json says so
    let closed = format!(
        "http://127.0.0.1:{}/v1/chat/completions",
        swarm_tests::free_port()
    );
    let o = coordinator(
        dir,
        &[
            "perf",
            "--url",
            &closed,
            "--dataset",
            "line_by_line",
            "--dataset-path",
            "p.txt",
            "--number",
            "4",
            "--outputs-dir",
            "refused-out",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let refused = swarm_tests::run_record(&swarm_tests::only_run(&dir.join("refused-out")));
    assert_ended(&refused, RunKind::Perf, RunStatus::Failed);
    assert_eq!(
        refused.outcome,
        Some(swarm_coordinator::outcome::Exit::Unreachable)
    );
    assert!(
        refused.failures.iter().any(|f| f.contains("refused")),
        "{refused:?}"
    );

    // eval, then a rescore of its folder
    let dargs = serde_json::json!({
        "gsm8k": {"local_path": eval_fixture("gsm8k/test.jsonl")},
    })
    .to_string();
    let o = coordinator(
        dir,
        &[
            "eval",
            "--model",
            "sim-model",
            "--api-url",
            &url,
            "--datasets",
            "gsm8k",
            "--dataset-args",
            &dargs,
            "--limit",
            "2",
            "--outputs-dir",
            "eval-out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let eval_run = swarm_tests::only_run(&dir.join("eval-out"));
    let eval = swarm_tests::run_record(&eval_run);
    assert_ended(&eval, RunKind::Eval, RunStatus::Done);
    let eval_run_arg = eval_run.to_str().expect("utf-8");
    let o = coordinator(dir, &["eval", "--rescore", eval_run_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rescore = swarm_tests::run_record(&eval_run);
    assert_ended(&rescore, RunKind::Rescore, RunStatus::Done);
    assert_eq!(
        rescore.started_at, eval.started_at,
        "the folder's start is kept"
    );

    // think-eval of a folder with no MATH-500 predictions: failed, and run.json says why
    let o = coordinator(
        dir,
        &[
            "think-eval",
            eval_run_arg,
            "--tokenizer-path",
            crate::think_eval::TOKENIZER,
            "-o",
            "think-out",
        ],
    );
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    let think = swarm_tests::run_record(&dir.join("think-out"));
    assert_ended(&think, RunKind::ThinkEval, RunStatus::Failed);
    assert!(!think.failures.is_empty(), "{think:?}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_eval_of_a_reasoning_run_is_done() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (run, _) = crate::think_eval::simulated_run(tmp.path()).await;
    let o = coordinator(
        tmp.path(),
        &[
            "think-eval",
            run.to_str().expect("utf-8"),
            "--tokenizer-path",
            crate::think_eval::TOKENIZER,
            "-o",
            "think-out",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let think = swarm_tests::run_record(&tmp.path().join("think-out"));
    assert_ended(&think, RunKind::ThinkEval, RunStatus::Done);
}

fn plan(name: &str) -> String {
    format!(
        "version: 1
name: {name}
targets:
  - name: sim
    sim: {{seed: 3}}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {{kind: line_by_line, path: p.txt}}
      max_tokens: 2
      stages:
        - {{parallel: 1, number: 3}}
"
    )
}

#[test]
fn a_plan_run_records_itself_and_continues_in_its_run_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    std::fs::write(dir.join("p.txt"), "hello\nsecond prompt\n").expect("dataset");
    std::fs::write(dir.join("plan.yaml"), plan("fixed")).expect("plan");
    std::fs::write(dir.join("other.yaml"), plan("another")).expect("plan");
    let run_dir = dir.join("out").join("fixed-run");
    let run_dir_arg = run_dir.to_str().expect("utf-8");
    let args = ["run", "--quiet", "--run-dir", run_dir_arg, "plan.yaml"];
    let o = coordinator(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = swarm_tests::run_record(&run_dir);
    assert_ended(&first, RunKind::Plan, RunStatus::Done);
    assert_eq!(first.run_id, "fixed-run");
    assert_eq!(first.workloads["chat"][0].summary.total_requests, 3);

    // started again after it ended (a reused run name): not run again, its outcome kept
    let o = coordinator(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("already ended"), "{}", stderr(&o));
    assert_eq!(swarm_tests::run_record(&run_dir).ended_at, first.ended_at);

    // a run whose process died (run.json still says running): a retried pod continues it, in
    // the same folder, its start kept
    let mut killed = swarm_tests::run_record(&run_dir);
    killed.status = RunStatus::Running;
    killed.ended_at = None;
    killed.outcome = None;
    std::fs::write(
        run_dir.join("run.json"),
        serde_json::to_string(&killed).expect("json"),
    )
    .expect("write");
    let o = coordinator(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("continuing the run"), "{}", stderr(&o));
    let again = swarm_tests::run_record(&run_dir);
    assert_ended(&again, RunKind::Plan, RunStatus::Done);
    assert_eq!(again.started_at, first.started_at);

    // another plan's run in that folder is refused, and the folder is left as it was
    let o = coordinator(
        dir,
        &["run", "--quiet", "--run-dir", run_dir_arg, "other.yaml"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("\"fixed\""), "{}", stderr(&o));
    assert_eq!(swarm_tests::run_record(&run_dir).ended_at, again.ended_at);
}
