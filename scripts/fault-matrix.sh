#!/usr/bin/env bash
# The fault matrix (not a CI step; a few minutes): endpoint faults from llm-sim, agent processes
# killed / paused / cut off / restarted, the coordinator killed mid-eval and resumed, hostile
# endpoints, agents and runs (issue 17). Prints the
# markdown table and, for a full run, writes it into docs/RELIABILITY.md between
# `<!-- fault-matrix:begin -->` and `<!-- fault-matrix:end -->`; exits 1 when a row fails.
#   scripts/fault-matrix.sh [--only endpoint|agent|coordinator|hostile]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
rc=0
target/release/swarm-faults --out target/fault-matrix "$@" | tee "$table" || rc=$?
if [ $# -eq 0 ] && [ -s "$table" ]; then
  scripts/doc-section.sh docs/RELIABILITY.md fault-matrix scripts/fault-matrix.sh release <"$table"
fi
exit "$rc"
