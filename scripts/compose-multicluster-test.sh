#!/usr/bin/env bash
# A run over two "clusters" without Kubernetes: two compose projects on separate networks.
#   region A (project 1): docker-compose.yml + deploy/multicluster-hub.yml: llm-sim, the
#     coordinator and agent-eu-1, agent-eu-2 (region=eu-west); the coordinator's and llm-sim's
#     ports are published on the Docker bridge gateway (what host-gateway resolves to)
#   region B (project 2): deploy/multicluster-agents.yml --scale agents=2 (region=us-east): agents
#     only, on a network of their own, dialling https://host.docker.internal:<port> with
#     --tls-domain coordinator and the CA, pool certificate and token of a host folder made once
#     by `coordinator certs` and mounted read-only into both projects
# The plan (deploy/compose-plan.yaml) places the workload per region; the test asserts, from the
# run folder, that each region measured exactly its planned requests (> 0) on its own agents,
# that the run exited 0 and every agent was drained (exit 0), that region B's containers sit on
# region B's network only, that both projects' agents logged their nofile limit (65536, or
# SWARM_NOFILE), and that the API key
# given in LLM_API_KEY reached the coordinator but no run file. Every wait has a deadline; both
# projects and the temporary files are removed on exit. compose-test.sh calls this.
#
#   scripts/compose-multicluster-test.sh       # needs the image $IMAGE (default swarmbench:dev)
#   KEEP=1 scripts/compose-multicluster-test.sh
# Needs: docker (engine on this host, 20.10+ for host-gateway) + `docker compose` or
# docker-compose v1.29+, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
T_START=$SECONDS

IMAGE=${IMAGE:-swarmbench:dev}
NAME=compose-multicluster-test
# shellcheck source=scripts/compose-common.sh
source scripts/compose-common.sh
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "no image $IMAGE (scripts/build-static.sh)" >&2; exit 1; }

log() { printf '[multicluster %4ds] %s\n' "$((SECONDS - T_START))" "$*"; }

pick_nofile

PA=swarmbench-mc-a-$$ # region A: coordinator, llm-sim, 2 agents
PB=swarmbench-mc-b-$$ # region B: agents only
# every compose call has a time limit
compose_a() {
  timeout 120 "${COMPOSE[@]}" -p "$PA" -f "$ROOT/docker-compose.yml" \
    -f "$ROOT/deploy/multicluster-hub.yml" --project-directory "$ROOT" "$@"
}
compose_b() {
  timeout 120 "${COMPOSE[@]}" -p "$PB" -f "$ROOT/deploy/multicluster-agents.yml" \
    --project-directory "$ROOT/deploy" "$@"
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/swarmbench-multicluster.XXXXXX")
chmod 0755 "$WORK"
# the containers never run as root (as in compose-test.sh)
if [ "$(id -u)" = 0 ]; then
  unset SWARM_UID SWARM_GID
  OWNER=65532:65532
else
  export SWARM_UID SWARM_GID
  SWARM_UID=$(id -u)
  SWARM_GID=$(id -g)
  OWNER=
fi

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ]; then
    log "FAILED (exit $rc); container states and log tails:"
    local cid p
    for p in "$PA" "$PB"; do
      for cid in $(docker ps -a -q --filter "label=com.docker.compose.project=$p" 2>/dev/null); do
        echo "--- $(docker inspect -f '{{.Name}} (exit {{.State.ExitCode}}, restarts {{.RestartCount}})' "$cid" 2>/dev/null)"
        docker logs --tail 25 "$cid" 2>&1
      done
    done
  fi
  compose_b down -v --remove-orphans -t 5 >/dev/null 2>&1
  compose_a down -v --remove-orphans -t 5 >/dev/null 2>&1
  if [ "${KEEP:-0}" = 1 ]; then
    log "kept outputs and logs in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK/certs" "$WORK/outputs"
if [ -n "$OWNER" ]; then chown "$OWNER" "$WORK/certs" "$WORK/outputs"; fi
export SWARM_CERTS_DIR=$WORK/certs SWARM_OUTPUTS=$WORK/outputs

# ---- where region B reaches region A: the Docker bridge gateway ------------------------------
# host-gateway (extra_hosts) resolves to it; ports published there are reachable from this host
# and from containers on non-internal networks, not from outside (127.0.0.1 would not do: a
# container's loopback is its own)
# (SWARM_PUBLISH_IP overrides; the daemon's default bridge often lists no gateway in its IPAM
# settings, so the address of its interface, docker0, is read)
GW=${SWARM_PUBLISH_IP:-$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')}
if [ -z "$GW" ] && command -v ip >/dev/null; then
  BRIDGE_IF=$(docker network inspect bridge -f '{{index .Options "com.docker.network.bridge.name"}}')
  GW=$(ip -4 -o addr show dev "${BRIDGE_IF:-docker0}" 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')
fi
[ -n "$GW" ] || { echo "cannot tell the default bridge's address (set SWARM_PUBLISH_IP)" >&2; exit 1; }
# two free ports on it
read -r COORD_PORT SIM_PORT < <(python3 - "$GW" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind((sys.argv[1], 0))
print(*(s.getsockname()[1] for s in socks))
PY
)
export SWARM_PUBLISH_IP=$GW SWARM_COORDINATOR_PORT=$COORD_PORT SWARM_SIM_PORT=$SIM_PORT
# one target URL for every region: llm-sim's published port
export LLM_URL=http://host.docker.internal:$SIM_PORT/v1/chat/completions
export SWARM_MIN_AGENTS=4 SWARM_REGION=us-east
# a key for the target (llm-sim ignores it): it must reach the coordinator, never a run file
LLM_API_KEY=mc-test-key-$(python3 -c 'import secrets; print(secrets.token_hex(8))')
export LLM_API_KEY
log "coordinator on $GW:$COORD_PORT, llm-sim on $GW:$SIM_PORT (LLM_URL $LLM_URL)"

# ---- certificates: once, on the host, for both projects ----------------------------------------
timeout 60 docker run --rm --network none --user "${SWARM_UID:-65532}:${SWARM_GID:-65532}" \
  --read-only --tmpfs /tmp -v "$WORK/certs:/certs" "$IMAGE" coordinator certs --out /certs \
  --agents agent-eu-1,agent-eu-2,pool --server-names coordinator,localhost >"$WORK/certs.log" 2>&1 ||
  { cat "$WORK/certs.log"; exit 1; }
for f in ca.pem server.pem server.key agent-eu-1.pem agent-eu-2.key pool.pem pool.key token; do
  [ -s "$WORK/certs/$f" ] || { echo "coordinator certs wrote no $f" >&2; cat "$WORK/certs.log"; exit 1; }
done

# ---- region A, then region B -------------------------------------------------------------------
log "region A ($PA): coordinator, llm-sim, agent-eu-1, agent-eu-2"
compose_a up -d coordinator llm-sim agent-eu-1 agent-eu-2 >"$WORK/up-a.log" 2>&1 ||
  { cat "$WORK/up-a.log"; exit 1; }
log "region B ($PB): agents --scale agents=2 (no coordinator, no llm-sim)"
compose_b up -d --scale agents=2 >"$WORK/up-b.log" 2>&1 || { cat "$WORK/up-b.log"; exit 1; }

COORD=$(compose_a ps -q coordinator | head -1)
rc=$(timeout 240 docker wait "$COORD") || { echo "the coordinator is still running after 240 s" >&2; exit 1; }
docker logs "$COORD" >"$WORK/coordinator.log" 2>&1
[ "$rc" = 0 ] || { echo "coordinator exited $rc" >&2; tail -30 "$WORK/coordinator.log" >&2; exit 1; }
log "coordinator exited 0"

A_AGENTS=$(compose_a ps -a -q agent-eu-1 agent-eu-2)
B_AGENTS=$(compose_b ps -a -q agents)
[ "$(wc -w <<<"$B_AGENTS")" = 2 ] || { echo "expected 2 region-B agents, got: $B_AGENTS" >&2; exit 1; }
for cid in $A_AGENTS $B_AGENTS; do
  name=$(docker inspect -f '{{.Name}}' "$cid")
  code=$(timeout 60 docker wait "$cid") || { echo "$name still running 60 s after the coordinator exited" >&2; exit 1; }
  [ "$code" = 0 ] || { echo "$name exited $code, expected 0 (drained)" >&2; docker logs --tail 20 "$cid" >&2; exit 1; }
  grep -Eq "open-file limit.*open_files=$SWARM_NOFILE( |\$)" <<<"$(docker logs "$cid" 2>&1)" ||
    { echo "$name did not log open-file limit open_files=$SWARM_NOFILE" >&2; exit 1; }
done
# region B's containers are on region B's network only; region A's on region A's
for cid in $B_AGENTS; do
  nets=$(docker inspect -f '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{end}}' "$cid")
  [ "$nets" = "${PB}_region " ] || { echo "region-B agent on networks: $nets" >&2; exit 1; }
done
for cid in $A_AGENTS $COORD; do
  nets=$(docker inspect -f '{{range $n, $e := .NetworkSettings.Networks}}{{$n}} {{end}}' "$cid")
  [ "$nets" = "${PA}_edge ${PA}_swarm " ] || { echo "region-A container on networks: $nets" >&2; exit 1; }
done
[ "$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$COORD" | grep -c "^LLM_API_KEY=$LLM_API_KEY\$")" = 1 ] ||
  { echo "the coordinator did not get LLM_API_KEY" >&2; exit 1; }
B_HOSTS=$(for c in $B_AGENTS; do docker inspect -f '{{.Config.Hostname}}' "$c"; done | paste -sd, -)

# ---- the report: per region, from the run folder -----------------------------------------------
python3 - "$WORK/outputs" "$B_HOSTS" "$LLM_API_KEY" "$WORK/coordinator.log" <<'PY'
import json, pathlib, re, sys

out, b_hosts, key, coord_log = pathlib.Path(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], sys.argv[4]
PLANNED = {"parallel_4_number_80": 80, "parallel_8_number_640": 640,
           "rate_50_parallel_16_number_200": 200}
A = {"agent-eu-1", "agent-eu-2"}
fails = []

def need(ok, what):
    if not ok:
        fails.append(what)

runs = [p for p in out.iterdir() if p.is_dir()]
assert len(runs) == 1, f"expected one run folder in {out}, found {runs}"
run = runs[0]
rj = json.loads((run / "run.json").read_text())
need(rj["cancelled"] is False and rj.get("outcome") == "ok" and rj.get("status", "done") == "done",
     f"run.json: cancelled {rj['cancelled']}, outcome {rj.get('outcome')}, status {rj.get('status')}")
stages = rj["workloads"]["chat-by-region"]
need([s["stage"] for s in stages] == list(PLANNED), f"stages {[s['stage'] for s in stages]}")
# region B's agents: <hostname>-<pid>, one per region-B container
joined = {}
for line in pathlib.Path(coord_log).read_text().splitlines():
    if "agent joined peer=" in line:
        m = re.search(r"agent_id=(\S+)", line)
        joined[m[1] if m else line] = line
B = {i for i in joined if any(re.fullmatch(re.escape(h) + r"-\d+", i) for h in b_hosts)}
need(set(joined) == A | B and len(B) == 2, f"joined {sorted(joined)}; region-B hosts {b_hosts}")
rows = []
for s in stages:
    name, n = s["stage"], PLANNED.get(s["stage"], -1)
    d = run / "perf" / "chat-by-region" / name
    b = json.loads((d / "breakdown.json").read_text())
    need(s["summary"]["Total Requests"] == 2 * n, f"{name}: Total Requests {s['summary']['Total Requests']}")
    need(set(b["agents"]) == A | B, f"{name}: agents {sorted(b['agents'])}")
    for label, members in (("region=eu-west", A), ("region=us-east", B)):
        ev = b["labels"].get(label, {}).get("evalscope", {})
        total, ok = ev.get("Total Requests", 0), ev.get("Success Requests", 0)
        need(total == n and ok == n, f"{name}: {label}: {total} requests, {ok} ok; planned {n}")
        mine = [sh for sh in b["shards"] if sh["agent"] in members]
        need(sum(sh["reported"] for sh in mine) == n and len({sh["agent"] for sh in mine}) == 2,
             f"{name}: {label} not measured by its own 2 agents: {mine}")
        rows.append(f"{name} {label}={total}")
    need(b["events"] == [], f"{name}: events {b['events']}")
# the key went to the coordinator (and the agents), never into a run file
leaks = [str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
need(not leaks, f"the API key is in {leaks}")
if fails:
    print("FAILED:\n  " + "\n  ".join(fails))
    sys.exit(1)
peers = sorted({re.search(r"peer=(\S+):\d+", joined[i])[1] for i in B if "peer=" in joined[i]})
print(f"  ok: {run.name}: region B agents {sorted(B)}, connecting from {peers} (through the published port)")
print("  " + ", ".join(rows))
PY
log "passed: both regions measured their planned requests, the run exited 0"
