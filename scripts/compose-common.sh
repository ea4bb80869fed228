# Sourced by scripts/compose-test.sh and scripts/compose-multicluster-test.sh (not run alone):
# the compose settings reset to this script's own, the compose command found, and the open-file
# limit the containers can be given. The caller sets NAME (for messages) and IMAGE first.

# the settings the compose files read come from the calling script only, not from the shell
unset COMPOSE_FILE COMPOSE_PROFILES SWARM_CERTS_DIR SWARM_OUTPUTS SWARM_MIN_AGENTS SWARM_POOL_REGION \
  LLM_URL LLM_API_KEY SWARM_COORDINATOR_PORT SWARM_SIM_PORT SWARM_COORDINATOR_HOST \
  SWARM_REGION SWARM_AGENT_CERT SWARM_COORDINATOR_LOG
export SWARM_IMAGE=$IMAGE
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  echo "$NAME: needs 'docker compose' or docker-compose (apt-get install docker-compose)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "$NAME: needs python3" >&2; exit 1; }

# pick_nofile: exports SWARM_NOFILE, the containers' open-file limit: the compose files' 65536,
# or (a Docker daemon whose own hard limit is lower cannot grant that: "error setting rlimits")
# the highest it grants. Needs the image.
pick_nofile() {
  if [ -z "${SWARM_NOFILE:-}" ]; then
    local n
    for n in 65536 32768 16384 8192 4096 1024; do
      if timeout 60 docker run --rm --network none --ulimit "nofile=$n:$n" "$IMAGE" agent --version >/dev/null 2>&1; then
        SWARM_NOFILE=$n
        break
      fi
    done
    [ -n "${SWARM_NOFILE:-}" ] || { echo "$NAME: no container starts with a nofile ulimit" >&2; exit 1; }
  fi
  export SWARM_NOFILE
}
