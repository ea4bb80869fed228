#!/usr/bin/env bash
# The perf-core benchmarks (docs/BENCHMARKS.md): client capacity, measurement fidelity against
# llm-sim's ground truth, and client memory at 10,000 concurrent streams. Loopback only. Each
# benchmark's output is also written into docs/BENCHMARKS.md between `<!-- bench:NAME:begin -->`
# and `<!-- bench:NAME:end -->` where those markers exist.
#   scripts/bench.sh [capacity|fidelity|memory|multi_turn|merge|scoring|app|sandbox|all]
# Each prints its goal and whether the run met it; the docs hold only what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
# SKIP_BUILD=1: use the release binaries already built
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -p llm-sim -p swarm-tests --bin llm-sim --bin swarm-bench
# 10,000 streams need 10,000 sockets on each side
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
echo "# $(date -u +%FT%TZ) $(nproc) cores, open files limit $(ulimit -n)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# one benchmark: run it, print its output, refresh its section of the docs
bench() {
  local name="$1" section="bench:$1${FIDELITY_STREAMS:+-$FIDELITY_STREAMS}"
  ./target/release/swarm-bench "$name" | tee "$out"
  { echo '```'; cat "$out"; echo '```'; } |
    scripts/doc-section.sh docs/BENCHMARKS.md "$section" "${FIDELITY_STREAMS:+FIDELITY_STREAMS=$FIDELITY_STREAMS }scripts/bench.sh $name" release
}
if [ "$what" = all ]; then
  bench capacity
  bench fidelity
  FIDELITY_STREAMS=250 bench fidelity
  bench memory
  bench multi_turn
  bench merge
  bench scoring
  bench app
  bench sandbox
else
  bench "$what"
fi
