//! A dataset of real size over real processes: a 100+ MB ShareGPT JSON array, a coordinator and
//! two agent processes, `number: 5000`. Every request is sent; no message carries the dataset:
//! each agent pulls only its own prompts (the bytes it received, counted by the agent, are those
//! of its prompts); the coordinator reads the file streaming (its peak RSS stays far below the
//! file's size, though the length filter makes it read ~95 % of the file).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use swarm_tests::schemas::read_json;
use swarm_tests::start_sim;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes a ShareGPT JSON array of `long` records whose human turn is 2,000 characters (over the
/// plan's length filter) followed by `short` records of ~150 characters; returns its size.
fn write_sharegpt(path: &Path, long: usize, short: usize) -> u64 {
    let f = std::fs::File::create(path).expect("dataset file");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let filler = "lorem ipsum dolor sit amet ".repeat(75);
    w.write_all(b"[\n").expect("write");
    for i in 0..long + short {
        if i > 0 {
            w.write_all(b",\n").expect("write");
        }
        let human = if i < long {
            format!("long record {i:08} {}", &filler[..1980])
        } else {
            format!(
                "short record {i:08}: how would you load-test an LLM endpoint serving {} users?",
                i % 977
            )
        };
        let rec = serde_json::json!({
            "id": format!("r{i}"),
            "conversations": [
                {"from": "human", "value": human},
                {"from": "gpt", "value": "an answer that is never sent"}
            ]
        });
        serde_json::to_writer(&mut w, &rec).expect("write");
    }
    w.write_all(b"\n]\n").expect("write");
    w.flush().expect("flush");
    std::fs::metadata(path).expect("size").len()
}

/// The process's peak resident set so far (VmHWM), bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Ran {
    run: PathBuf,
    peak_rss: u64,
}

/// Runs the plan over `dataset` (in `dir`) with a coordinator and two agent processes; returns
/// the run folder and the coordinator's peak RSS.
fn run_plan(dir: &Path, sim_url: &str, dataset: &str, out: &str) -> Ran {
    std::fs::write(dir.join("token"), "big-data\n").expect("token");
    let port = swarm_tests::free_port();
    let plan = format!(
        "version: 1
name: big
agents: {{min_agents: 2, wait_s: 60, heartbeat_timeout_s: 10}}
coordinator: {{listen: '127.0.0.1:{port}', token_file: token}}
targets:
  - {{name: sim, url: '{sim_url}/v1/chat/completions', model: sim-model}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {{kind: sharegpt, path: {dataset}, max_prompt_length: 1000}}
      max_tokens: 2
      stages:
        - {{parallel: 16, number: 5000}}
"
    );
    std::fs::write(dir.join("plan.yaml"), plan).expect("plan");
    let log_path = dir.join(format!("{out}.log"));
    let log = std::fs::File::create(&log_path).expect("log");
    let mut coord = Proc(
        Command::new(swarm_tests::workspace_bin("coordinator"))
            .args(["run", "--quiet", "--outputs-dir"])
            .arg(dir.join(out))
            .arg(dir.join("plan.yaml"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("coordinator starts"),
    );
    let pid = coord.0.id();
    let agents: Vec<Proc> = ["a1", "a2"]
        .iter()
        .map(|id| {
            Proc(
                Command::new(swarm_tests::workspace_bin("agent"))
                    .args(["--coordinator", &format!("http://127.0.0.1:{port}")])
                    .args(["--id", id])
                    .arg("--token-file")
                    .arg(dir.join("token"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("agent starts"),
            )
        })
        .collect();
    let t0 = Instant::now();
    let mut peak = 0u64;
    let status = loop {
        if let Some(p) = peak_rss(pid) {
            peak = peak.max(p);
        }
        if let Some(s) = coord.0.try_wait().expect("status") {
            break s;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(240),
            "the run did not finish in 240 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(agents);
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "coordinator failed ({status}): {log}");
    assert!(peak > 0, "the coordinator's peak RSS was read");
    let run = std::fs::read_dir(dir.join(out))
        .expect("out")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    Ran {
        run,
        peak_rss: peak,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_dataset_over_two_agent_processes() {
    let sim = start_sim(llm_sim::SimConfig::instant()).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // the same 5000 prompts, once alone (1 MB) and once after 50,000 filtered records (107 MB)
    let small_size = write_sharegpt(&dir.join("small.json"), 0, 6_000);
    let size = write_sharegpt(&dir.join("sharegpt.json"), 50_000, 6_000);
    assert!(size > 100_000_000, "the dataset is {size} bytes");
    let small = run_plan(dir, &sim.url(), "small.json", "out-small");
    let big = run_plan(dir, &sim.url(), "sharegpt.json", "out-big");
    sim.shutdown().await;
    std::fs::remove_file(dir.join("sharegpt.json")).expect("remove the dataset");
    // the coordinator's memory does not follow the file: 100 more MB read, a few MB more held
    let grew = big.peak_rss.saturating_sub(small.peak_rss);
    assert!(
        grew < (size - small_size) / 10,
        "coordinator peak RSS {} bytes on the {size}-byte file, {} bytes on the {small_size}-byte one",
        big.peak_rss,
        small.peak_rss
    );

    let stage = big.run.join("perf/w/parallel_16_number_5000");
    let summary = read_json(&stage.join("benchmark_summary.json"));
    assert_eq!(summary["Total Requests"], 5000);
    assert_eq!(summary["Success Requests"], 5000);
    let breakdown = read_json(&stage.join("breakdown.json"));
    let prompts = breakdown["prompts"].as_object().expect("prompts per agent");
    assert_eq!(prompts.len(), 2, "{prompts:?}");
    let mut distinct = 0;
    for (agent, t) in prompts {
        let received = t["received_bytes"].as_u64().expect("received");
        let own = t["slice_bytes"].as_u64().expect("slice bytes");
        let n = t["slice_prompts"].as_u64().expect("slice prompts");
        distinct += n;
        assert_eq!(t["received_prompts"].as_u64(), Some(n), "{agent}: {t}");
        assert!(
            n > 1000 && n < 4000,
            "{agent} sends {n} of the 5000 prompts"
        );
        assert!(
            received >= own && (received as f64) <= own as f64 * 1.1,
            "{agent} received {received} bytes for {own} bytes of its own prompts"
        );
        assert!(
            received < size / 20,
            "{agent} received {received} bytes of a {size}-byte file"
        );
    }
    assert_eq!(distinct, 5000, "together the agents send each prompt once");
}
