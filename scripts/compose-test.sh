#!/usr/bin/env bash
# End-to-end test of docker-compose.yml with real containers on a private network:
#   0. builds the static binaries and the FROM-scratch image (scripts/build-static.sh), and
#      generates certificates and the token with the one-shot `certs` service (`coordinator certs`)
#   1. the documented way, scripts/compose-run.sh (`compose up -d`, the coordinator's log, its
#      exit status): the run completes, every stage's totals are as planned, breakdown.json has
#      both regions (region=eu-west, region=us-east); the drained agents exited 0 and were not
#      restarted; every container has nofile 65536 (or SWARM_NOFILE, the most the Docker daemon
#      grants) and the agents and the coordinator log it
#   2. an eu-west agent is `docker kill`ed mid-stage: the report's totals are still exactly as
#      planned (its unfinished budget went to the other eu-west agent), and breakdown.json says
#      so; the killed agent stays down (restart: on-failure leaves a manual kill alone)
#   3. an eu-west agent's process crashes mid-stage (SIGKILL from the host): handled like 2, and
#      Docker restarts it (restart: on-failure), it rejoins under the same id, and the run still
#      exits 0 (nothing stops the stack when an agent exits)
#   4. an eu-west agent is cut off with `docker network disconnect`: the coordinator notices the
#      missing heartbeats (heartbeat_timeout_s: 3 in the plan) and handles it the same way
#   5. `--scale agents-pool=3` (profile pool, no --id, one shared certificate): three distinct
#      agents (<hostname>-<pid>, one per container) join and split eu-west's load
#   6. scripts/compose-multicluster-test.sh: two compose projects on separate networks, the
#      second one's agents dial the first's coordinator through its published port
# Every wait has a timeout; containers, networks, volumes and temporary files are removed on exit.
#
#   scripts/compose-test.sh                # build + test
#   SKIP_BUILD=1 scripts/compose-test.sh   # test an existing image ($IMAGE, default swarmbench:dev)
#   KEEP=1 scripts/compose-test.sh         # keep the outputs and logs (the path is printed)
#   SKIP_MULTICLUSTER=1 ...                # leave out step 6
# Needs: docker (engine on this host + `docker compose` or docker-compose v1.29+), python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T_START=$SECONDS

IMAGE=${IMAGE:-swarmbench:dev}
NAME=compose-test
# shellcheck source=scripts/compose-common.sh
source scripts/compose-common.sh

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
    local cid
    for cid in $(docker ps -a -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" 2>/dev/null); do
      echo "--- $(docker inspect -f '{{.Name}} (exit {{.State.ExitCode}}, restarts {{.RestartCount}})' "$cid" 2>/dev/null)"
      docker logs --tail 25 "$cid" 2>&1
    done
  fi
  timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" \
    --profile setup --profile pool down -v --remove-orphans -t 5 >/dev/null 2>&1
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
pick_nofile
[ "$SWARM_NOFILE" = 65536 ] || log "this Docker daemon cannot grant nofile 65536: testing with SWARM_NOFILE=$SWARM_NOFILE"

log "certificates: compose run --rm certs (coordinator certs)"
timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" \
  --profile setup run --rm certs >"$WORK/certs.log" 2>&1 || { cat "$WORK/certs.log"; exit 1; }
grep -q "agent-us-1.key" "$WORK/certs.log" && grep -q "pool.key" "$WORK/certs.log" ||
  { cat "$WORK/certs.log"; exit 1; }

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

# check OUTPUTS MODE [ARG]: the assertions on one run's files. MODE: clean; kill, crash or
# disconnect (ARG: the victim); pool (ARG: the pool containers' host names, comma separated)
check() {
  python3 - "$@" <<'PY'
import json, pathlib, re, sys

out, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None
victim = arg if mode in ("kill", "crash", "disconnect") else None
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
need(rj.get("outcome") == "ok", f"run.json: outcome {rj.get('outcome')}")
need(rj.get("status", "done") == "done", f"run.json: status {rj.get('status')}")
stages = rj["workloads"]["chat-by-region"]
need([s["stage"] for s in stages] == list(PLANNED), f"stages {[s['stage'] for s in stages]}")
plan_text = (run / "plan.yaml").read_text()
for name, n in PLANNED.items():
    need(f"number: {n}}}" in plan_text, f"plan.yaml lacks number: {n} (keep PLANNED in sync)")
pool_ids = set()
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
    if mode in ("clean", "pool"):
        need(events == [], f"{name}: unexpected events {events}")
        need(all(sh["status"] == "count" for sh in b["shards"]), f"{name}: shard status")
    if mode == "clean":
        need(set(b["agents"]) == AGENTS, f"{name}: agents {sorted(b['agents'])}")
        continue
    if mode == "pool":
        # no --id: each copy is <hostname>-<pid>, the host name being its container's
        hosts = arg.split(",")
        ids = set(b["agents"]) - {"agent-us-1"}
        need("agent-us-1" in b["agents"], f"{name}: agent-us-1 missing: {sorted(b['agents'])}")
        owners = sorted(h for i in ids for h in hosts if re.fullmatch(re.escape(h) + r"-\d+", i))
        need(len(ids) == 3 and owners == sorted(hosts),
             f"{name}: pool agents {sorted(ids)}, expected one per container {hosts}")
        eu = [sh for sh in b["shards"] if sh["agent"] in ids]
        need(len({sh["agent"] for sh in eu}) == 3 and sum(sh["reported"] for sh in eu) == n,
             f"{name}: eu-west not split over the 3 pool agents: {eu}")
        pool_ids |= ids
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
        if mode == "crash":
            later = [st["stage"] for st in stages[stages.index(s) + 1:]
                     if victim in json.loads((run / "perf" / "chat-by-region" / st["stage"] / "breakdown.json").read_text())["agents"]]
            print(f"  {victim} restarted; later stages it took part in: {later or 'none'}")
        if mode == "disconnect":
            need(any(f"agent {victim} lost (no heartbeat" in e for e in events),
                 f"{name}: loss not detected by the heartbeat timeout: {events}")
if mode not in ("clean", "pool"):
    need(first_loss == "parallel_8_number_640", f"{victim} first lost in {first_loss}, expected parallel_8_number_640")
if mode == "pool":
    need(len(pool_ids) == 3, f"pool agents changed between stages: {sorted(pool_ids)}")
if fails:
    print("FAILED:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"  ok: {run.name}: " + ", ".join(f"{s['stage']}={s['summary']['Total Requests']}" for s in stages)
      + (f"; pool agents {sorted(pool_ids)}" if pool_ids else ""))
PY
}

# state SERVICE: "<exit code> <restart count> <running>" of the service's (first) container
state() { docker inspect -f '{{.State.ExitCode}} {{.RestartCount}} {{.State.Running}}' "$(compose ps -a -q "$1" | head -1)"; }

# agents_done SECONDS SERVICE...: every container of these services exited 0 and was never
# restarted (drained at the end of the run; on-failure restarts only a failure)
agents_done() {
  local limit=$1 s cid rc
  shift
  for s in "$@"; do
    for cid in $(compose ps -a -q "$s"); do
      rc=$(timeout "$limit" docker wait "$cid") || { echo "$s: still running $limit s after the coordinator exited" >&2; return 1; }
      [ "$rc" = 0 ] || { echo "$s exited $rc" >&2; return 1; }
      [ "$(docker inspect -f '{{.RestartCount}}' "$cid")" = 0 ] || { echo "$s was restarted" >&2; return 1; }
    done
  done
}

# nofile SERVICE...: the container's nofile ulimit is $SWARM_NOFILE and its binary logged that limit
nofile() {
  local s cid
  for s in "$@"; do
    cid=$(compose ps -a -q "$s" | head -1)
    [ "$(docker inspect -f '{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}} {{end}}' "$cid")" = "nofile=$SWARM_NOFILE:$SWARM_NOFILE " ] ||
      { echo "$s: ulimits $(docker inspect -f '{{json .HostConfig.Ulimits}}' "$cid")" >&2; return 1; }
    grep -Eq "open-file limit.*open_files=$SWARM_NOFILE( |\$)" <<<"$(docker logs "$cid" 2>&1)" ||
      { echo "$s did not log open-file limit open_files=$SWARM_NOFILE" >&2; docker logs "$cid" 2>&1 | grep -i 'open-file' >&2; return 1; }
  done
}

down() { timeout 60 "${COMPOSE[@]}" -f "$ROOT/docker-compose.yml" --project-directory "$ROOT" --profile pool down -t 5 >/dev/null 2>&1; }

# ---- 1. a clean run, the documented way --------------------------------------------------------
new_outputs run1
log "run 1: scripts/compose-run.sh (compose up -d; the coordinator's exit status)"
t=$SECONDS
if ! COMPOSE_RUN_TIMEOUT=240 scripts/compose-run.sh >"$WORK/run1.log" 2>&1; then
  tail -60 "$WORK/run1.log"
  exit 1
fi
grep -q "results: /outputs/" "$WORK/run1.log" || { tail -40 "$WORK/run1.log"; exit 1; }
grep -q "compose-run: coordinator exited 0" "$WORK/run1.log" || { tail -40 "$WORK/run1.log"; exit 1; }
for s in coordinator agent-eu-1 llm-sim; do
  u=$(docker inspect -f '{{.Config.User}}' "$(compose ps -a -q "$s" | head -1)")
  case "$u" in 0 | 0:* | root*) echo "$s runs as root" >&2; exit 1 ;; esac
done
check "$WORK/run1" clean
agents_done 30 agent-eu-1 agent-eu-2 agent-us-1
nofile coordinator agent-eu-1 agent-eu-2 agent-us-1
[ "$(docker inspect -f '{{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}}' "$(compose ps -a -q llm-sim | head -1)")" = "nofile=$SWARM_NOFILE:$SWARM_NOFILE" ] ||
  { echo "llm-sim: no nofile ulimit" >&2; exit 1; }
log "run 1 ok ($((SECONDS - t)) s): drained agents exited 0, not restarted; nofile $SWARM_NOFILE logged"
down

# ---- 2.-4. an agent fails mid-stage ------------------------------------------------------------
# fail_mid_stage NAME ACTION: start detached, wait until agent-eu-2 runs its share of the second
# stage, give it ~3 s of load, then ACTION it
fail_mid_stage() {
  new_outputs "$1"
  compose up -d >"$WORK/$1-up.log" 2>&1 || { cat "$WORK/$1-up.log"; return 1; }
  wait_log agent-eu-2 'parallel_8_number_640.*shard assigned' 120
  sleep 3
  local cid pid child
  cid=$(cid_of agent-eu-2)
  case "$2" in
    kill) timeout 30 docker kill "$cid" >/dev/null ;;
    crash)
      # the agent process itself dies (not `docker kill`, which Docker treats as a manual stop):
      # the container's init (init: true) exits 137 and the restart policy applies
      pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
      child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null) ||
        { echo "cannot see the container's processes (/proc/$pid): needs the Docker engine on this host" >&2; return 1; }
      [ -n "$child" ] || { echo "agent-eu-2: no process under its init" >&2; return 1; }
      # shellcheck disable=SC2086
      kill -KILL $child
      ;;
    disconnect) timeout 30 docker network disconnect -f "$NET" "$cid" ;;
  esac
  log "  $2 agent-eu-2 during parallel_8_number_640"
  wait_coordinator 180 "$1"
}

log "run 2: docker kill agent-eu-2 mid-stage"
t=$SECONDS
fail_mid_stage run2 kill
[ "$(state agent-eu-2)" = "137 0 false" ] || { echo "agent-eu-2: $(state agent-eu-2), expected killed (137), not restarted" >&2; exit 1; }
check "$WORK/run2" kill agent-eu-2
agents_done 30 agent-eu-1 agent-us-1
log "run 2 ok ($((SECONDS - t)) s)"
down

log "run 3: agent-eu-2's process killed (a crash) mid-stage"
t=$SECONDS
fail_mid_stage run3 crash
check "$WORK/run3" crash agent-eu-2
read -r code restarts running <<<"$(state agent-eu-2)"
[ "$restarts" -ge 1 ] || { echo "agent-eu-2 was not restarted after its crash ($code $restarts $running)" >&2; exit 1; }
# the restarted agent was drained at the end like the others
code=$(timeout 30 docker wait "$(compose ps -a -q agent-eu-2 | head -1)") || { echo "restarted agent-eu-2 still running" >&2; exit 1; }
[ "$code" = 0 ] || { echo "restarted agent-eu-2 exited $code" >&2; exit 1; }
joined=$(grep -c 'agent joined peer=.* agent_id=agent-eu-2 ' "$WORK/coordinator-run3.log" || true)
[ "$joined" -ge 2 ] || { echo "agent-eu-2 joined $joined time(s), expected a rejoin after the restart" >&2; exit 1; }
grep -q "results: /outputs/" "$WORK/coordinator-run3.log" || { echo "no results line" >&2; exit 1; }
agents_done 30 agent-eu-1 agent-us-1
log "run 3 ok ($((SECONDS - t)) s): agent-eu-2 restarted $restarts time(s), joined $joined times, drained (exit 0)"
down

log "run 4: docker network disconnect agent-eu-2 mid-stage"
t=$SECONDS
fail_mid_stage run4 disconnect
[ "$(docker inspect -f '{{.State.Running}}' "$(compose ps -a -q agent-eu-2 | head -1)")" = true ] ||
  { echo "agent-eu-2 should still be running, only cut off" >&2; exit 1; }
grep -q "no heartbeat" "$WORK/coordinator-run4.log" || { echo "coordinator did not log the heartbeat timeout" >&2; exit 1; }
check "$WORK/run4" disconnect agent-eu-2
log "run 4 ok ($((SECONDS - t)) s)"
down

# ---- 5. a scaled pool of agents ----------------------------------------------------------------
log "run 5: --scale agents-pool=3 (no --id, one certificate) + agent-us-1"
t=$SECONDS
new_outputs run5
export COMPOSE_PROFILES=pool # (also for `ps agents-pool` below)
SWARM_MIN_AGENTS=4 compose up -d --scale agents-pool=3 \
  coordinator llm-sim agents-pool agent-us-1 >"$WORK/run5-up.log" 2>&1 || { cat "$WORK/run5-up.log"; exit 1; }
wait_coordinator 180 run5
hosts=$(for c in $(compose ps -a -q agents-pool); do docker inspect -f '{{.Config.Hostname}}' "$c"; done | paste -sd, -)
[ "$(tr ',' '\n' <<<"$hosts" | sort -u | wc -l)" = 3 ] || { echo "expected 3 agents-pool containers, got: $hosts" >&2; exit 1; }
check "$WORK/run5" pool "$hosts"
[ "$(grep -c 'agent joined peer=' "$WORK/coordinator-run5.log")" = 4 ] || { echo "expected 4 agents to join" >&2; exit 1; }
agents_done 30 agents-pool agent-us-1
log "run 5 ok ($((SECONDS - t)) s)"
down
unset COMPOSE_PROFILES

# ---- 6. two compose projects: region B's agents dial region A's published coordinator ---------
if [ "${SKIP_MULTICLUSTER:-0}" = 1 ]; then
  log "run 6 skipped (SKIP_MULTICLUSTER=1)"
else
  log "run 6: scripts/compose-multicluster-test.sh"
  t=$SECONDS
  IMAGE=$IMAGE scripts/compose-multicluster-test.sh
  log "run 6 ok ($((SECONDS - t)) s)"
fi

log "all compose tests passed in $((SECONDS - T_START)) s"
