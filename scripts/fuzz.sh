#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers that take outside input: SSE streams, plan files,
# dataset files, model output (answer extractors) and agent messages (protobuf + what the
# coordinator decodes from them). A scheduled job, not a CI step:
#   scripts/fuzz.sh [seconds per target, default 600] [target ...]
# Needs nightly (installed here when missing) and cargo-fuzz. A crash fails the script and its
# input is copied into fuzz/regressions/<target>/, which `cargo test` replays on stable.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sse_stream plan_yaml dataset_lines answer_extract agent_message)
fi
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# our code is safe Rust: panics are what we hunt, and without ASan the fuzzers run ~2x faster.
# FUZZ_SANITIZER=address turns it back on (for the C in -sys crates). `-O -a`: optimized, but with
# debug assertions and overflow checks, so arithmetic that wraps in a release build (counts,
# indices, lengths from hostile bytes) panics here and is caught.
sanitizer="${FUZZ_SANITIZER:-none}"
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  # seed the corpus with the kept regressions and the project's own fixtures
  cp -n fuzz/regressions/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  case "$t" in
    sse_stream) cp -n agent/tests/fixtures/streams/* "fuzz/corpus/$t/" 2>/dev/null || true ;;
    plan_yaml) cp -n examples/*.yaml "fuzz/corpus/$t/" 2>/dev/null || true ;;
    dataset_lines) cp -n common/tests/fixtures/datasets/* "fuzz/corpus/$t/" 2>/dev/null || true ;;
  esac
  echo "== $t: ${secs}s"
  if ! cargo +nightly fuzz run --sanitizer "$sanitizer" -O -a "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -timeout=10; then
    failed=1
    for crash in fuzz/artifacts/"$t"/*; do
      [ -f "$crash" ] && cp "$crash" "fuzz/regressions/$t/" && echo "kept $crash in fuzz/regressions/$t/"
    done
  fi
done
exit $failed
