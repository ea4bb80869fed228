#!/usr/bin/env bash
# All tests: formatting, lints, and every unit, property and end-to-end test of the workspace.
# This is the README's test command; CI (.ci/run) calls exactly this.
set -euo pipefail
# incremental caches only cost disk in one-shot builds
export CARGO_INCREMENTAL=0
cd "$(dirname "$0")/.."

# every test that does not run what it is about says so here; the list is printed at the end
SWARM_SKIP_LOG=$(mktemp "${TMPDIR:-/tmp}/swarm-skips.XXXXXX")
export SWARM_SKIP_LOG
closing() {
  local rc=$?
  local n
  n=$(sort -u "$SWARM_SKIP_LOG" | grep -c . || true)
  if [ "$n" = 0 ]; then
    echo "== skipped: nothing"
  else
    echo "== skipped: $n"
    sort -u "$SWARM_SKIP_LOG" | sed 's/^/   /'
  fi
  rm -f "$SWARM_SKIP_LOG"
  exit "$rc"
}
trap closing EXIT
# skip COMPONENT WHY [ci]: records a skip; with `ci` (CI provides it) and CI=true, fails instead
skip() {
  echo "skipped: $1: $2" | tee -a "$SWARM_SKIP_LOG"
  if [ "${3:-}" = ci ] && [ "${CI:-}" = true ]; then
    echo "error: CI=true and CI provides $1, so it must run, not be skipped ($2)" >&2
    exit 1
  fi
}

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi
# rustfmt and clippy ship as rustup components; add them when missing (no-op when present)
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# no unwrap() outside tests: the library and binary code alone (test modules are not compiled here)
cargo clippy --workspace --lib --bins -- -D warnings -D clippy::unwrap_used
# the multi-process tests start the real `coordinator`, `agent` and `llm-sim` binaries
cargo build --workspace --bins
# the dashboard's browser tests (tests/tests/e2e/app_browser.rs) drive Debian's chromium; CI runs
# as root, so it is installed when missing, and then a missing browser fails the test
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  export SWARM_REQUIRE_BROWSER=1
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null; then
    export SWARM_REQUIRE_BROWSER=1
  else
    skip "browser tests (e2e::app_browser)" "apt-get install chromium failed" ci
  fi
else
  skip "browser tests (e2e::app_browser)" "no chromium and apt-get is not usable here (not root)" ci
fi
cargo test --workspace
# the sandbox in its non-root (user-namespace) mode: CI runs as root, so the suite runs again as a
# dedicated unprivileged user (scripts/sandbox-nonroot-test.sh), never skipped
scripts/sandbox-nonroot-test.sh
# OTLP export (the `otlp` feature, off by default): its code linted, and a plan run whose spans
# and metrics an in-test OTLP/gRPC receiver must get (tests/tests/otlp.rs). The test runs its own
# `coordinator-otlp` binary, so target/debug/coordinator stays the default build.
cargo clippy -p swarm-io -p swarm-coordinator -p swarm-agent -p swarm-tests --features otlp --all-targets -- -D warnings
cargo clippy -p swarm-io -p swarm-coordinator -p swarm-agent --features otlp --lib --bins -- -D warnings -D clippy::unwrap_used
cargo test -p swarm-tests --features otlp --test otlp
# live metrics as a real Prometheus scrapes them (scripts/prometheus-test.sh, Debian's prometheus):
# installed when missing as for chromium; without it the test is skipped, except under CI=true
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    no_prometheus="no prometheus and apt-get is not usable here (not root)"
  elif ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >/dev/null; then
    no_prometheus="apt-get install prometheus failed"
  fi
fi
if [ -z "${no_prometheus:-}" ]; then
  scripts/prometheus-test.sh
else
  skip "Prometheus test (scripts/prometheus-test.sh)" "$no_prometheus" ci
fi

# what follows needs no debug build; on a small disk, free it before the static build
avail_kb=$(df -Pk . | awk 'NR==2 {print $4}')
if [ "${avail_kb:-0}" -lt 8000000 ]; then
  echo "less than 8 GB free: removing target/debug before the static build"
  rm -rf target/debug
fi

# dependencies: licenses, sources, duplicate versions (cargo-deny; advisories when online)
scripts/deny.sh

# the Helm chart: rendered offline and validated against the Kubernetes schemas
scripts/helm-test.sh

# containers: static binaries → FROM-scratch image → compose stack end to end, an agent killed,
# an agent cut off (needs a Docker engine; SWARM_SKIP_DOCKER=1 skips it)
if [ "${SWARM_SKIP_DOCKER:-0}" = 1 ]; then
  skip "compose test" "SWARM_SKIP_DOCKER=1" ci
elif docker info >/dev/null 2>&1; then
  # the static build has its own target folder; the image exports OTLP (as users build it)
  env -u CARGO_TARGET_DIR scripts/compose-test.sh
else
  skip "compose test" "no Docker engine reachable (docker info failed)" ci
fi
