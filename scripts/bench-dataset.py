#!/usr/bin/env python3
"""Benchmark: a large ShareGPT-format dataset over several agent processes (docs/BENCHMARKS.md).

Generates a ShareGPT JSON array of SIZE_MB (default 1024), runs `coordinator run` with AGENTS
agent processes (default 4) and --number NUMBER (default 20000) against llm-sim (release
builds, loopback only), then the same plan on a small dataset of the same prompts, and appends
to docs/BENCHMARKS.md: time from start until the stage's shards were assigned (live.json
appears), the coordinator's peak RSS, the bytes each agent received against the bytes of its
own prompts, and requests/s of both runs. The generated file is removed at the end.

    scripts/bench-dataset.py [SIZE_MB] [AGENTS] [NUMBER]
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
REL = ROOT / "target" / "release"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_sharegpt(path, size_mb, short):
    """~2 KB records (over the length filter) until size_mb, then `short` short ones."""
    filler = ("lorem ipsum dolor sit amet " * 80)[:1980]
    target = size_mb * 1024 * 1024
    written, i = 0, 0
    with open(path, "w") as f:
        f.write("[\n")
        while written < target:
            rec = {"id": f"r{i}", "conversations": [
                {"from": "human", "value": f"long record {i:09d} {filler}"},
                {"from": "gpt", "value": "never sent"}]}
            line = json.dumps(rec) + ",\n"
            f.write(line)
            written += len(line)
            i += 1
        for j in range(short):
            rec = {"id": f"s{j}", "conversations": [
                {"from": "human", "value": f"short record {j:09d}: how would you load-test an LLM endpoint serving {j % 977} users?"},
                {"from": "gpt", "value": "never sent"}]}
            f.write(json.dumps(rec) + (",\n" if j + 1 < short else "\n"))
        f.write("]\n")
    return os.path.getsize(path)


def peak_rss(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def run(work, sim_url, dataset, agents, number, out):
    port = free_port()
    (work / "token").write_text("bench\n")
    (work / "plan.yaml").write_text(f"""version: 1
name: bench
agents: {{min_agents: {agents}, wait_s: 120, heartbeat_timeout_s: 30}}
coordinator: {{listen: '127.0.0.1:{port}', token_file: token}}
targets:
  - {{name: sim, url: '{sim_url}/v1/chat/completions', model: sim-model}}
workloads:
  - name: w
    perf:
      target: sim
      dataset: {{kind: sharegpt, path: {dataset}, max_prompt_length: 1000}}
      max_tokens: 8
      stages:
        - {{parallel: 64, number: {number}}}
""")
    t0 = time.monotonic()
    coord = subprocess.Popen([str(REL / "coordinator"), "run", "--quiet", "--outputs-dir", str(work / out),
                              str(work / "plan.yaml")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs = [subprocess.Popen([str(REL / "agent"), "--coordinator", f"http://127.0.0.1:{port}", "--id", f"a{k}",
                               "--token-file", str(work / "token")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for k in range(agents)]
    peak, assigned = 0, None
    while coord.poll() is None:
        peak = max(peak, peak_rss(coord.pid) or 0)
        if assigned is None and list((work / out).glob("*/perf/w/*/live.json")):
            assigned = time.monotonic() - t0
        time.sleep(0.02)
    err = coord.stderr.read().decode(errors="replace")
    for p in procs:
        p.kill()
        p.wait()
    if coord.returncode != 0:
        sys.exit(f"coordinator exited {coord.returncode}: {err[-2000:]}")
    stage = next(p for p in (work / out).glob("*/perf/w/*") if p.is_dir())
    summary = json.loads((stage / "benchmark_summary.json").read_text())
    breakdown = json.loads((stage / "breakdown.json").read_text())
    return {"assigned_s": assigned, "peak_rss": peak, "wall_s": time.monotonic() - t0,
            "rps": summary["Req Throughput (req/s)"], "total": summary["Total Requests"],
            "prompts": breakdown["prompts"]}


def main():
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    agents = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    number = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    subprocess.run(["cargo", "build", "--release", "-p", "swarm-coordinator", "-p", "swarm-agent", "-p", "llm-sim",
                    "--bin", "coordinator", "--bin", "agent", "--bin", "llm-sim"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        big = write_sharegpt(work / "big.json", size_mb, number + 1000)
        small = write_sharegpt(work / "small.json", 0, number + 1000)
        sim_port = free_port()
        sim = subprocess.Popen([str(REL / "llm-sim"), "--port", str(sim_port), "--ttft-ms", "5", "--itl-ms", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        try:
            r_small = run(work, f"http://127.0.0.1:{sim_port}", "small.json", agents, number, "out-small")
            r_big = run(work, f"http://127.0.0.1:{sim_port}", "big.json", agents, number, "out-big")
        finally:
            sim.kill()
        os.remove(work / "big.json")
    lines = [
        f"{big / 2**20:.0f} MiB ShareGPT file, {agents} agent processes, --number {number}, llm-sim 5 ms TTFT.",
        "The kept prompts are the file's last records (a length filter drops the rest), so the coordinator reads the whole file.",
        "",
        "| dataset | start → shards assigned | coordinator peak RSS | req/s | requests |",
        "|---|---|---|---|---|",
        f"| {big / 2**20:.0f} MiB | {r_big['assigned_s']:.2f} s | {r_big['peak_rss'] / 2**20:.0f} MiB | {r_big['rps']:.1f} | {r_big['total']} |",
        f"| {small / 2**20:.1f} MiB (same prompts) | {r_small['assigned_s']:.2f} s | {r_small['peak_rss'] / 2**20:.0f} MiB | {r_small['rps']:.1f} | {r_small['total']} |",
        "",
        "| agent | bytes received | bytes of its own prompts | ratio |",
        "|---|---|---|---|",
    ]
    for agent, t in sorted(r_big["prompts"].items()):
        ratio = t["received_bytes"] / max(1, t["slice_bytes"])
        lines.append(f"| {agent} | {t['received_bytes']} | {t['slice_bytes']} | {ratio:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    # refresh the section between the bench:dataset markers (stamped with date, commit, machine)
    subprocess.run(
        [str(ROOT / "scripts" / "doc-section.sh"), str(ROOT / "docs" / "BENCHMARKS.md"), "bench:dataset",
         f"scripts/bench-dataset.py {size_mb} {agents} {number}", "release"],
        input=text, text=True, check=True)


if __name__ == "__main__":
    main()
