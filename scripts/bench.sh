#!/usr/bin/env bash
# The perf-core benchmarks (docs/BENCHMARKS.md): client capacity, measurement fidelity against
# llm-sim's ground truth, and client memory at 10,000 concurrent streams. Loopback only.
#   scripts/bench.sh [capacity|fidelity|memory|merge|scoring|app|sandbox|all]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
cargo build --release -p llm-sim -p swarm-tests --bin llm-sim --bin swarm-bench
# 10,000 streams need 10,000 sockets on each side
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
echo "# $(date -u +%FT%TZ) $(nproc) cores, open files limit $(ulimit -n)"
if [ "$what" = all ]; then
  ./target/release/swarm-bench capacity
  ./target/release/swarm-bench fidelity
  FIDELITY_STREAMS=250 ./target/release/swarm-bench fidelity
  ./target/release/swarm-bench memory
  ./target/release/swarm-bench merge
  ./target/release/swarm-bench scoring
  ./target/release/swarm-bench app
  ./target/release/swarm-bench sandbox
else
  ./target/release/swarm-bench "$what"
fi
