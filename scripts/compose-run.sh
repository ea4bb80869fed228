#!/usr/bin/env bash
# Runs docker-compose.yml's plan and exits with the coordinator's exit status:
#   1. `compose up -d [ARGS...]`: starts the stack in the background
#   2. follows the coordinator's log until the container exits
#   3. exits with the coordinator's exit status (`docker wait`)
# Unlike `compose up --exit-code-from coordinator` (which implies --abort-on-container-exit),
# nothing is stopped when an agent exits: a crashed agent is restarted by Docker
# (restart: on-failure) and the coordinator handles the lost session itself; the drained agents
# exiting at the end do not cut the coordinator off while it writes its report. The stack is
# left as it is afterwards (`docker compose down -v` removes it).
#
#   scripts/compose-run.sh                                       # the whole stack
#   COMPOSE_PROFILES=pool SWARM_MIN_AGENTS=4 scripts/compose-run.sh --scale agents-pool=3 \
#     coordinator llm-sim agents-pool agent-us-1
#
# Compose's own environment variables apply (COMPOSE_FILE, COMPOSE_PROJECT_NAME,
# COMPOSE_PROFILES); works with `docker compose` (v2) and docker-compose (v1). With Compose v2.20+
# the same is `docker compose up -d && docker compose wait coordinator`.
# Environment: COMPOSE_RUN_TIMEOUT=SECONDS stops waiting after that long (exit 124; the stack
# keeps running); default: no limit.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "compose-run: needs 'docker compose' or docker-compose" >&2
  exit 1
fi

"${COMPOSE[@]}" up -d "$@"
# (-a: a coordinator that already exited, e.g. on a plan error, is listed too)
cid=$("${COMPOSE[@]}" ps -a -q coordinator | head -1)
if [ -z "$cid" ]; then
  echo "compose-run: no coordinator container" >&2
  exit 1
fi
limit=()
if [ -n "${COMPOSE_RUN_TIMEOUT:-}" ]; then limit=(timeout "$COMPOSE_RUN_TIMEOUT"); fi
# the log ends when the container does; `docker wait` then has its exit status
followed=0
${limit[@]+"${limit[@]}"} docker logs -f "$cid" || followed=$?
if [ "$followed" = 124 ]; then
  echo "compose-run: the coordinator is still running after ${COMPOSE_RUN_TIMEOUT} s" >&2
  exit 124
fi
rc=$(${limit[@]+"${limit[@]}"} docker wait "$cid")
echo "compose-run: coordinator exited $rc" >&2
exit "$rc"
