#!/usr/bin/env bash
# Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in FILE with a line
# saying how, when, where and from which commit it was measured, then stdin. Used by
# scripts/fault-matrix.sh, scripts/soak.sh and scripts/bench.sh so a rerun refreshes the docs.
#   scripts/doc-section.sh FILE NAME "SCRIPT AND ARGS" PROFILE < text
set -euo pipefail
file="$1" name="$2" script="$3" profile="$4"
begin="<!-- $name:begin -->" end="<!-- $name:end -->"
if ! grep -qF "$begin" "$file" || ! grep -qF "$end" "$file"; then
  echo "doc-section: no $begin … $end in $file; not written" >&2
  exit 0
fi
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit with uncommitted changes"
fi
model="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
mem="$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo 2>/dev/null)"
body="$(mktemp)"
trap 'rm -f "$body" "$body.out"' EXIT
{
  echo "Measured by \`$script\` on $(date -u +%F), commit $commit; $(nproc) cores (${model:-unknown CPU}), ${mem:-? GiB}, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $profile build."
  echo
  cat
} >"$body"
awk -v b="$begin" -v e="$end" -v f="$body" '
  $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
  $0 == e { skip = 0 }
  !skip { print }
' "$file" >"$body.out"
cat "$body.out" >"$file"
echo "doc-section: refreshed $name in $file" >&2
