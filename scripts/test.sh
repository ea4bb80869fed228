#!/usr/bin/env bash
# All tests: formatting, lints, and every unit, property and end-to-end test of the workspace.
# This is the README's test command; CI (.ci/run) calls exactly this.
set -euo pipefail
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
# the multi-process tests start the real `coordinator`, `agent` and `llm-sim` binaries
cargo build --workspace --bins
cargo test --workspace
