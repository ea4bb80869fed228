#!/usr/bin/env bash
# The soak (not a CI step): a 30-minute open-loop run at a fixed rate against llm-sim with three
# agent processes; prints achieved rate, RSS and fd growth as the markdown kept in
# docs/RELIABILITY.md, samples in target/fault-matrix/soak/samples.csv.
#   scripts/soak.sh [minutes, default 30] [rate, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins
target/release/swarm-faults --out target/fault-matrix --soak "${1:-30}" --rate "${2:-100}"
