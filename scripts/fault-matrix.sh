#!/usr/bin/env bash
# The fault matrix (not a CI step; a few minutes): endpoint faults from llm-sim, agent processes
# killed / paused / cut off / restarted, the coordinator killed mid-eval and resumed. Prints the
# markdown table kept in docs/RELIABILITY.md; exits 1 when a row fails.
#   scripts/fault-matrix.sh [--only endpoint|agent|coordinator]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins
target/release/swarm-faults --out target/fault-matrix "$@"
