#!/usr/bin/env bash
# The soak (not a CI step): a 30-minute open-loop run at a fixed rate against llm-sim with three
# agent processes; prints the achieved rate (from the requests' actual send times), the send lag
# per minute, RSS and fd growth as markdown, and writes it into docs/RELIABILITY.md between
# `<!-- soak:begin -->` and `<!-- soak:end -->`; samples in target/fault-matrix/soak/samples.csv.
#   scripts/soak.sh [minutes, default 30] [rate, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace --bins
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
target/release/swarm-faults --out target/fault-matrix --soak "${1:-30}" --rate "${2:-100}" | tee "$out" || rc=$?
if [ -s "$out" ]; then
  scripts/doc-section.sh docs/RELIABILITY.md soak "scripts/soak.sh ${1:-30} ${2:-100}" release <"$out"
fi
exit "$rc"
