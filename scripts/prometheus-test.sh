#!/usr/bin/env bash
# The coordinator's live metrics (`run --metrics-listen`) as a real Prometheus sees them:
#   - starts Debian's `prometheus` with a generated config that scrapes the coordinator's
#     /metrics on 127.0.0.1 every second (TSDB in a temporary folder, web UI/API on a free
#     loopback port)
#   - runs `coordinator run` on a small plan: three local agents, llm-sim in-process with a few
#     injected HTTP 500s, three stages of 8 s (closed loop, closed loop, open loop)
#   - asks Prometheus's HTTP API (/api/v1/query) for each stage's last counter values and
#     compares them with the stage's benchmark_summary.json: swarm_requests_total = Total
#     Requests, swarm_requests_failed_total = Failed Requests, swarm_latency_seconds_count and
#     swarm_ttft_seconds_count = Success Requests, exactly; swarm_latency_seconds _sum/_count =
#     Avg Latency (s) within its rounding
#   - evaluates rate() over the stage's window as Prometheus saw it run (whole seconds between
#     scrapes, leaving out the partial reports of its first and last second):
#     rate(swarm_requests_total) - rate(swarm_requests_failed_total) must be within 5 % of
#     Req Throughput (req/s), widened by what the window's two ends can misplace: each agent
#     reports once a second, so on a loaded machine one agent's report can land on the other side
#     of a scrape at either end (at most one report, 1/agents of a second's requests, per end)
#   - prints a table; exits non-zero on any mismatch
# Only loopback addresses are used. Every wait has a deadline; Prometheus, the coordinator and
# the temporary folder are removed on exit (KEEP=1 keeps the folder; its path is printed).
#
#   scripts/prometheus-test.sh
#   COORDINATOR_BIN=PATH   coordinator binary (default: target/debug/coordinator, built if missing)
#   PROMETHEUS_BIN=PATH    prometheus binary (default: prometheus on PATH)
# Needs: prometheus (apt-get install prometheus), python3, cargo when the binary is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PROMETHEUS_BIN=${PROMETHEUS_BIN:-prometheus}
command -v "$PROMETHEUS_BIN" >/dev/null 2>&1 || {
  echo "prometheus-test: no prometheus binary (apt-get install prometheus)" >&2
  exit 1
}
command -v python3 >/dev/null 2>&1 || {
  echo "prometheus-test: needs python3" >&2
  exit 1
}
COORDINATOR_BIN=${COORDINATOR_BIN:-${CARGO_TARGET_DIR:-target}/debug/coordinator}
if [ ! -x "$COORDINATOR_BIN" ]; then
  cargo build -p swarm-coordinator --bin coordinator
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarmbench-prometheus.XXXXXX")
PROM_PID=
RUN_PID=
cleanup() {
  local rc=$?
  for pid in $RUN_PID $PROM_PID; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      # bounded: a second's grace, then SIGKILL
      for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    echo "prometheus-test: files kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# two free loopback ports (the OS picks them; released just before use)
read -r METRICS_PORT PROM_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
EOF
)

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: swarm
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
EOF

cat >"$WORK/plan.yaml" <<'EOF'
version: 1
name: prometheus-test
agents: {local_agents: 3}
targets:
  - name: sim
    sim:
      latency: {ttft_ms: {kind: normal, mean: 8, std: 2}, itl_ms: 1}
      faults: {rate_500: 0.02}
workloads:
  - name: chat
    perf:
      target: sim
      dataset: {kind: random, tokenizer: cl100k_base, min_prompt_length: 16, max_prompt_length: 64}
      max_tokens: 12
      stages:
        - {parallel: 3, duration_s: 8}
        - {parallel: 6, duration_s: 8}
        - {rate: 90, arrival: constant, parallel: 12, duration_s: 8}
EOF

"$PROMETHEUS_BIN" \
  --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" \
  --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

PROM_URL="http://127.0.0.1:$PROM_PORT"
# ready within 60 s, or fail
python3 - "$PROM_URL" "$PROM_PID" <<'EOF'
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("prometheus-test: prometheus exited at start (see prometheus.log)")
    try:
        if opener.open(url + "/-/ready", timeout=2).status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit("prometheus-test: prometheus not ready within 60 s")
EOF
# Prometheus applies new targets a few seconds after it starts: wait (≤ 30 s) until it has tried
# the metrics port once, so the run's first seconds are scraped
python3 - "$PROM_URL" "$METRICS_PORT" <<'EOF'
import json, sys, time, urllib.request
url, port = sys.argv[1], sys.argv[2]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        with opener.open(url + "/api/v1/targets", timeout=2) as r:
            targets = json.load(r)["data"]["activeTargets"]
        if any(f":{port}/" in t["scrapeUrl"] and not t["lastScrape"].startswith("0001")
               for t in targets):
            sys.exit(0)
    except (OSError, ValueError, KeyError):
        pass
    time.sleep(0.2)
sys.exit("prometheus-test: prometheus did not start scraping within 30 s")
EOF
echo "prometheus-test: prometheus $("$PROMETHEUS_BIN" --version 2>&1 | head -1 | awk '{print $3}') on $PROM_URL, scraping 127.0.0.1:$METRICS_PORT every 1 s"

# the run: at most 5 minutes
timeout 300 "$COORDINATOR_BIN" run "$WORK/plan.yaml" --quiet --outputs-dir "$WORK/outputs" \
  --metrics-listen "127.0.0.1:$METRICS_PORT" >"$WORK/coordinator.log" 2>&1 &
RUN_PID=$!
rc=0
wait "$RUN_PID" || rc=$?
RUN_PID=
if [ "$rc" != 0 ]; then
  tail -n 40 "$WORK/coordinator.log" >&2
  echo "prometheus-test: coordinator run exited $rc" >&2
  exit 1
fi

python3 - "$PROM_URL" "$WORK/outputs" <<'EOF'
import glob, json, os, sys, time, urllib.parse, urllib.request

url, outputs = sys.argv[1], sys.argv[2]
AGENTS = 3  # local_agents in the plan above
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def query(q, at=None):
    params = {"query": q}
    if at is not None:
        params["time"] = f"{at:.3f}"
    with opener.open(f"{url}/api/v1/query?{urllib.parse.urlencode(params)}", timeout=10) as r:
        body = json.load(r)
    if body.get("status") != "success":
        sys.exit(f"prometheus-test: query {q!r} failed: {body}")
    return body["data"]

def scalar(q, at=None):
    """The single value of an instant vector query, None if it is empty."""
    res = query(q, at)["result"]
    if len(res) > 1:
        sys.exit(f"prometheus-test: {q!r} returned {len(res)} series")
    return float(res[0]["value"][1]) if res else None

runs = [d for d in glob.glob(os.path.join(outputs, "*")) if os.path.isdir(d)]
if len(runs) != 1:
    sys.exit(f"prometheus-test: expected one run folder in {outputs}, found {runs}")
stages = []
for f in sorted(glob.glob(os.path.join(runs[0], "perf", "*", "*", "benchmark_summary.json"))):
    d = os.path.dirname(f)
    stages.append((os.path.basename(os.path.dirname(d)), os.path.basename(d), json.load(open(f))))
if len(stages) != 3:
    sys.exit(f"prometheus-test: expected 3 stage files, found {len(stages)}")

now = time.time()
rows, bad = [], []
for workload, stage, s in stages:
    sel = f'{{job="swarm",workload="{workload}",stage="{stage}"}}'
    # the last scraped values (the series went stale when the coordinator exited)
    last = lambda m: scalar(f"last_over_time({m}{sel}[15m])", now)
    total, failed = last("swarm_requests_total"), last("swarm_requests_failed_total")
    lat_count, ttft_count = last("swarm_latency_seconds_count"), last("swarm_ttft_seconds_count")
    lat_sum = last("swarm_latency_seconds_sum")
    want_total, want_failed = s["Total Requests"], s["Failed Requests"]
    want_ok = s["Success Requests"]
    for name, got, want in [
        ("swarm_requests_total", total, want_total),
        ("swarm_requests_failed_total", failed, want_failed),
        ("swarm_latency_seconds_count", lat_count, want_ok),
        ("swarm_ttft_seconds_count", ttft_count, want_ok),
    ]:
        if got != want:
            bad.append(f"{stage}: {name} {got} != {want} in benchmark_summary.json")
    mean_lat = lat_sum / lat_count if lat_sum is not None and lat_count else None
    if mean_lat is None or abs(mean_lat - s["Avg Latency (s)"]) > 6e-5:
        bad.append(f"{stage}: swarm_latency_seconds mean {mean_lat} != Avg Latency (s) {s['Avg Latency (s)']}")
    # rate() over the stage as Prometheus saw it run. Each agent reports once a second, so a
    # whole number of seconds between two scrapes holds exactly that many reports of each agent,
    # except where the window cuts the stage's first or last report (a partial second). The
    # window: from the second scrape that saw the stage running (every agent's last report
    # before it came after the stage began) to the second to last before its final count (no
    # agent had sent its last report yet).
    samples = query(f"swarm_requests_total{sel}[15m]", now)["result"]
    points = [(float(t), float(v)) for t, v in samples[0]["values"]] if samples else []
    if not any(t for t, v in points if v == want_total):
        bad.append(f"{stage}: no scrape saw Total Requests {want_total}")
    rising = [t for t, v in points if 0 < v < want_total]
    duration = s["Test Duration (s)"]
    want_rps = s["Req Throughput (req/s)"]
    rps, window = None, None
    if len(rising) < 4 or rising[-2] - rising[1] < 3:
        bad.append(f"{stage}: fewer than 3 s of scrapes inside the stage: {points}")
    else:
        window = rising[-2] - rising[1]
        w = f"{round(window * 1000)}ms"
        rps = scalar(
            f"rate(swarm_requests_total{sel}[{w}]) - rate(swarm_requests_failed_total{sel}[{w}])",
            rising[-2],
        )
        # 5 %, plus one agent's one-second report misplaced at each end of the window
        tol = 0.05 * want_rps + 2 * (want_rps / AGENTS) / window
        if rps is None or abs(rps - want_rps) > tol:
            bad.append(f"{stage}: rate() {rps} req/s is not within {tol:.2f} req/s (5 % + one "
                       f"report of one agent per window end) of Req Throughput {want_rps}")
    p99 = scalar(
        f"histogram_quantile(0.99, last_over_time(swarm_ttft_seconds_bucket{sel}[15m]))", now
    )
    pct = json.load(open(os.path.join(runs[0], "perf", workload, stage, "benchmark_percentile.json")))
    file_p99 = next((r["TTFT (ms)"] / 1e3 for r in pct if r["Percentiles"] == "99%"
                     and r["TTFT (ms)"] is not None), None)
    rows.append((stage, want_total, total, want_failed, failed, want_ok, lat_count,
                 duration, window, want_rps, rps, p99, file_p99))

fmt = lambda v, p=0: "-" if v is None else (f"{v:.{p}f}" if isinstance(v, float) else str(v))
head = ("stage", "total file", "total prom", "failed file", "failed prom", "ok file",
        "latency_count", "duration s", "rate() window s", "req/s file", "rate() req/s", "diff %",
        "TTFT p99 s: histogram_quantile", "file")
table = [head]
for (stage, wt, t, wf, f, wo, lc, d, w, wr, r, p99, fp99) in rows:
    diff = None if r is None else 100 * (r - wr) / wr
    table.append((stage, fmt(wt), fmt(t), fmt(wf), fmt(f), fmt(wo), fmt(lc), fmt(d, 2), fmt(w, 1),
                  fmt(wr, 2), fmt(r, 2), fmt(diff, 2), fmt(p99, 4), fmt(fp99, 4)))
widths = [max(len(r[i]) for r in table) for i in range(len(head))]
for i, r in enumerate(table):
    print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths))))
    if i == 0:
        print("  ".join("-" * w for w in widths))
if bad:
    print("\n".join(["prometheus-test: FAILED"] + bad), file=sys.stderr)
    sys.exit(1)
print("prometheus-test: ok (counters exact, rate() within 5 % + one report per window end)")
EOF
