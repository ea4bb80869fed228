#!/usr/bin/env bash
# All tests: formatting, lints, and every unit, property and end-to-end test of the workspace.
# This is the README's test command; CI (.ci/run) calls exactly this.
set -euo pipefail
# incremental caches only cost disk in one-shot builds
export CARGO_INCREMENTAL=0
cd "$(dirname "$0")/.."

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
    echo "browser tests skipped: apt-get install chromium failed"
  fi
else
  echo "browser tests skipped: no chromium and apt-get is not usable here (not root)"
fi
cargo test --workspace

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
  echo "compose test skipped (SWARM_SKIP_DOCKER=1)"
elif docker info >/dev/null 2>&1; then
  # the static build has its own target folder; OTLP export is left out to keep CI builds short
  env -u CARGO_TARGET_DIR SWARM_OTLP=0 scripts/compose-test.sh
else
  echo "compose test skipped: no Docker engine reachable (docker info failed)"
fi
