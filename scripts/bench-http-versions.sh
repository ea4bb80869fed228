#!/usr/bin/env bash
# Client capacity over HTTP/1.1 (a connection per request in flight, the default) and HTTP/2
# (streams over connections of 100), streaming and not, against llm-sim in another process;
# appends the figures to docs/BENCHMARKS.md with the date and commit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p llm-sim -p swarm-tests --bin llm-sim --bin swarm-bench
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true
out=$(./target/release/swarm-bench capacity)
echo "$out"
{
  echo
  echo "### Capacity by HTTP version — parallel 256, 64 output tokens, zero simulated latency, 50,000 requests"
  echo "Measured by \`scripts/bench-http-versions.sh\` on $(date -u +%F), commit $(git rev-parse --short HEAD), $(nproc) cores, release build; client and llm-sim share the cores. HTTP/2 spreads the 256 streams over 3 connections (llm-sim allows 100 streams a connection)."
  echo
  echo '```'
  echo "$out"
  echo '```'
} >> docs/BENCHMARKS.md
