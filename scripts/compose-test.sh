#!/usr/bin/env bash
# End-to-end test of docker-compose.yml with real containers on a private network:
#   0. builds the static binaries and the FROM-scratch image (scripts/build-static.sh), and
#      generates certificates and the token with the one-shot `certs` service (`coordinator certs`)
#   1. `compose up --exit-code-from coordinator`: the run completes, every stage's totals are as
#      planned, and breakdown.json has both regions (region=eu-west, region=us-east)
#   2. an eu-west agent is `docker kill`ed mid-stage: the report's totals are still exactly as
#      planned (its unfinished budget went to the other eu-west agent), and breakdown.json says so
#   3. an eu-west agent is cut off with `docker network disconnect`: the coordinator notices the
#      missing heartbeats (heartbeat_timeout_s: 3 in the plan) and handles it the same way
# Every wait has a timeout; containers, network, volume and temporary files are removed on exit.
#
#   scripts/compose-test.sh                # build + test
#   SKIP_BUILD=1 scripts/compose-test.sh   # test an existing image ($IMAGE, default swarmbench:dev)
#   KEEP=1 scripts/compose-test.sh         # keep the outputs and logs (the path is printed)
# Needs: docker (engine + `docker compose` or docker-compose v1.29+), python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T_START=$SECONDS

IMAGE=${IMAGE:-swarmbench:dev}
export SWARM_IMAGE=$IMAGE
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "compose-test: needs 'docker compose' or docker-compose (apt-get install docker-compose)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "compose-test: needs python3" >&2; exit 1; }

export COMPOSE_PROJECT_NAME=swarmbench-test-$$
NET=${COMPOSE_PROJECT_NAME}_swarm
WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarmbench-compose.XXXXXX")
chmod 0755 "$WORK"
# the containers never run as root: as root, hand the output folders to their default uid; as
# anyone else, run the containers as that user
if [ "$(id -u)" = 0 ]; then
  unset SWARM_UID SWARM_GID
  OWNER=65532:65532
else
  export SWARM_UID SWARM_GID
  SWARM_UID=$(id -u)
  SWARM_GID=$(id -g)
  OWNER=
fi

log() { printf '[compose-test %4ds] %s\n' "$((SECONDS - T_START))" "$*"; }
# every compose call has a time limit
compose() { timeout 120 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" "$@"; }

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ]; then
    log "FAILED (exit $rc); container states and log tails:"
    compose ps -a 2>/dev/null
    for s in coordinator agent-eu-1 agent-eu-2 agent-us-1 llm-sim; do
      local cid
      cid=$(compose ps -a -q "$s" 2>/dev/null | head -1)
      if [ -n "$cid" ]; then echo "--- $s"; docker logs --tail 25 "$cid" 2>&1; fi
    done
  fi
  timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" \
    --profile setup down -v --remove-orphans -t 5 >/dev/null 2>&1
  if [ "${KEEP:-0}" = 1 ]; then
    log "kept outputs and logs in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 0. image and certificates -------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building static binaries and $IMAGE"
  # a clean build takes ~15 min on 2 cores; incremental ones a few
  timeout "${BUILD_TIMEOUT:-3600}" scripts/build-static.sh >"$WORK/build.log" 2>&1 ||
    { tail -40 "$WORK/build.log"; exit 1; }
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "no image $IMAGE" >&2; exit 1; }
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[ "$user" = "65532:65532" ] || { echo "image user is '$user', expected 65532:65532" >&2; exit 1; }
log "image $IMAGE: $(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1/1e6}'), user $user"

log "certificates: compose run --rm certs (coordinator certs)"
timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" \
  --profile setup run --rm certs >"$WORK/certs.log" 2>&1 || { cat "$WORK/certs.log"; exit 1; }
grep -q "agent-us-1.key" "$WORK/certs.log" || { cat "$WORK/certs.log"; exit 1; }

new_outputs() {
  local d=$WORK/$1
  mkdir -p "$d"
  if [ -n "$OWNER" ]; then chown "$OWNER" "$d"; fi
  export SWARM_OUTPUTS=$d
}

cid_of() { compose ps -q "$1" | head -1; }

# wait_log SERVICE REGEX SECONDS: until the service's log matches
wait_log() {
  local cid deadline=$((SECONDS + $3))
  cid=$(cid_of "$1")
  # (no pipe into grep -q: with pipefail an early exit of grep would read as a failure)
  while ! grep -Eq "$2" <<<"$(timeout 30 docker logs "$cid" 2>&1)"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out after $3 s waiting for /$2/ in the log of $1" >&2
      return 1
    fi
    sleep 0.5
  done
}

# wait_coordinator SECONDS: until the coordinator container exits; fails unless it exited 0
wait_coordinator() {
  local cid rc
  cid=$(cid_of coordinator)
  rc=$(timeout "$1" docker wait "$cid") || { echo "coordinator still running after $1 s" >&2; return 1; }
  docker logs "$cid" >"$WORK/coordinator-$2.log" 2>&1
  [ "$rc" = 0 ] || { echo "coordinator exited $rc" >&2; tail -30 "$WORK/coordinator-$2.log" >&2; return 1; }
}

# check OUTPUTS MODE [VICTIM]: the assertions on one run's files
check() {
  python3 - "$@" <<'PY'
import json, pathlib, re, sys

out, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
victim = sys.argv[3] if len(sys.argv) > 3 else None
# deploy/compose-plan.yaml: requests per region and stage (per_label region: each region runs
# the whole stage)
PLANNED = {"parallel_4_number_80": 80, "parallel_8_number_640": 640,
           "rate_50_parallel_16_number_200": 200}
AGENTS = {"agent-eu-1", "agent-eu-2", "agent-us-1"}
LABELS = ["region=eu-west", "region=us-east"]
fails = []

def need(ok, what):
    if not ok:
        fails.append(what)

runs = [p for p in out.iterdir() if p.is_dir()]
assert len(runs) == 1, f"expected one run folder in {out}, found {runs}"
run = runs[0]
rj = json.loads((run / "run.json").read_text())
need(rj["cancelled"] is False, "run.json: cancelled")
stages = rj["workloads"]["chat-by-region"]
need([s["stage"] for s in stages] == list(PLANNED), f"stages {[s['stage'] for s in stages]}")
plan_text = (run / "plan.yaml").read_text()
for name, n in PLANNED.items():
    need(f"number: {n}}}" in plan_text, f"plan.yaml lacks number: {n} (keep PLANNED in sync)")
first_loss = None
for s in stages:
    name, n = s["stage"], PLANNED.get(s["stage"], -1)
    d = run / "perf" / "chat-by-region" / name
    summ = json.loads((d / "benchmark_summary.json").read_text())
    # "count", or "count (after re-assignment)" when a lost agent's budget went elsewhere
    need(s["stopped"].startswith("count"), f"{name}: stopped {s['stopped']}")
    need(summ["Total Requests"] == 2 * n, f"{name}: Total Requests {summ['Total Requests']} != {2 * n}")
    need(summ["Success Requests"] == 2 * n, f"{name}: Success Requests {summ['Success Requests']} != {2 * n}")
    b = json.loads((d / "breakdown.json").read_text())
    need(list(b["labels"]) == LABELS, f"{name}: labels {list(b['labels'])}")
    for l in LABELS:
        got = b["labels"].get(l, {}).get("evalscope", {}).get("Total Requests")
        need(got == n, f"{name}: {l} Total Requests {got} != {n}")
    reported = sum(sh.get("reported", 0) for sh in b["shards"])
    need(reported == 2 * n, f"{name}: shards reported {reported} != {2 * n}")
    events = [e.get("what", "") for e in b["events"]]
    if mode == "clean":
        need(set(b["agents"]) == AGENTS, f"{name}: agents {sorted(b['agents'])}")
        need(events == [], f"{name}: unexpected events {events}")
        need(all(sh["status"] == "count" for sh in b["shards"]), f"{name}: shard status")
        continue
    for e in events:
        print(f"  {name}: {e}")
    if first_loss is None and any(f"agent {victim} lost" in e for e in events):
        first_loss = name
        need(any(sh["agent"] == victim and sh["status"] == "lost" for sh in b["shards"]),
             f"{name}: no lost shard of {victim}")
        # lost mid-stage: it had reported part of its share (planned/2 in eu-west), not all
        m = [re.search(r"(\d+) requests reported before the loss; re-assigned (\d+) to agent-eu-1", e)
             for e in events]
        m = [x for x in m if x]
        need(m and 0 < int(m[0][1]) < n // 2 and int(m[0][1]) + int(m[0][2]) == n // 2,
             f"{name}: not a mid-stage loss re-assigned to agent-eu-1: {events}")
        if mode == "disconnect":
            need(any(f"agent {victim} lost (no heartbeat" in e for e in events),
                 f"{name}: loss not detected by the heartbeat timeout: {events}")
if mode != "clean":
    need(first_loss == "parallel_8_number_640", f"{victim} first lost in {first_loss}, expected parallel_8_number_640")
if fails:
    print("FAILED:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"  ok: {run.name}: " + ", ".join(f"{s['stage']}={s['summary']['Total Requests']}" for s in stages))
PY
}

# ---- 1. a clean run, the documented way --------------------------------------------------------
new_outputs run1
log "run 1: compose up --exit-code-from coordinator"
t=$SECONDS
if ! timeout 240 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" \
  up --exit-code-from coordinator >"$WORK/run1.log" 2>&1; then
  tail -60 "$WORK/run1.log"
  exit 1
fi
grep -q "results: /outputs/" "$WORK/run1.log" || { tail -40 "$WORK/run1.log"; exit 1; }
for s in coordinator agent-eu-1 llm-sim; do
  u=$(docker inspect -f '{{.Config.User}}' "$(compose ps -a -q "$s" | head -1)")
  case "$u" in 0 | 0:* | root*) echo "$s runs as root" >&2; exit 1 ;; esac
done
check "$WORK/run1" clean
log "run 1 ok ($((SECONDS - t)) s)"
timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" down -t 5 >/dev/null 2>&1

# ---- 2. docker kill an agent mid-stage ---------------------------------------------------------
# fail_mid_stage NAME ACTION: start detached, wait until agent-eu-2 runs its share of the second
# stage, give it ~3 s of load, then ACTION it
fail_mid_stage() {
  new_outputs "$1"
  compose up -d >"$WORK/$1-up.log" 2>&1 || { cat "$WORK/$1-up.log"; return 1; }
  wait_log agent-eu-2 'parallel_8_number_640.*shard assigned' 120
  sleep 3
  local cid
  cid=$(cid_of agent-eu-2)
  case "$2" in
    kill) timeout 30 docker kill "$cid" >/dev/null ;;
    disconnect) timeout 30 docker network disconnect -f "$NET" "$cid" ;;
  esac
  log "  $2 agent-eu-2 during parallel_8_number_640"
  wait_coordinator 180 "$1"
}

log "run 2: docker kill agent-eu-2 mid-stage"
t=$SECONDS
fail_mid_stage run2 kill
[ "$(docker inspect -f '{{.State.ExitCode}}' "$(compose ps -a -q agent-eu-2 | head -1)")" = 137 ] ||
  { echo "agent-eu-2 was not killed" >&2; exit 1; }
check "$WORK/run2" kill agent-eu-2
log "run 2 ok ($((SECONDS - t)) s)"
timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" down -t 5 >/dev/null 2>&1

# ---- 3. cut an agent off the network -----------------------------------------------------------
log "run 3: docker network disconnect agent-eu-2 mid-stage"
t=$SECONDS
fail_mid_stage run3 disconnect
[ "$(docker inspect -f '{{.State.Running}}' "$(compose ps -a -q agent-eu-2 | head -1)")" = true ] ||
  { echo "agent-eu-2 should still be running, only cut off" >&2; exit 1; }
grep -q "no heartbeat" "$WORK/coordinator-run3.log" || { echo "coordinator did not log the heartbeat timeout" >&2; exit 1; }
check "$WORK/run3" disconnect agent-eu-2
log "run 3 ok ($((SECONDS - t)) s)"

log "all compose tests passed in $((SECONDS - T_START)) s"
