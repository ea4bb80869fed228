#!/usr/bin/env bash
# Dependency checks with cargo-deny: licenses (allow-list in deny.toml), bans (duplicate
# versions reported, wildcards refused), sources (crates.io only). Advisories need the RustSec
# database from the internet; they run when it can be fetched and are reported as skipped when
# it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked
cargo deny check licenses bans sources
if timeout 60 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny check advisories
else
  echo "cargo-deny advisories skipped: the advisory database could not be fetched (no internet?)"
fi
