#!/usr/bin/env bash
# The swarm-sandbox test suite in non-root mode (the user-namespace sandbox). As root (CI): builds
# the suite if needed, creates the unprivileged user swarm-sandbox-test if missing, installs
# newuidmap/newgidmap (Debian package uidmap) if missing and gives that user a subordinate range in
# /etc/subuid and /etc/subgid if it has none (so its programs run under a subordinate id, not the
# user's own), copies the test binaries where that user may run them, and runs them as that user.
# As any other user: runs `cargo test -p swarm-sandbox` directly. Exits non-zero when a test
# fails; a test that cannot isolate here (or, for the subordinate-id test, finds no helpers or no
# range) prints SKIPPED, and fails instead under CI=true.
#
#   scripts/sandbox-nonroot-test.sh [test-name-filter...]
#   SWARM_SANDBOX_TEST_USER=name   the unprivileged user (default swarm-sandbox-test)
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
user="${SWARM_SANDBOX_TEST_USER:-swarm-sandbox-test}"

if [ "$(id -u)" -ne 0 ]; then
    echo "sandbox-nonroot-test: not root (uid $(id -u)): running the suite as this user"
    echo "+ cargo test -p swarm-sandbox -- $*"
    exec cargo test -p swarm-sandbox -- "$@"
fi

echo "+ cargo test -p swarm-sandbox --no-run"
bins=$(cargo test -p swarm-sandbox --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])
')
if [ -z "$bins" ]; then
    echo "sandbox-nonroot-test: no test binary of swarm-sandbox was built" >&2
    exit 1
fi

if ! id -u "$user" >/dev/null 2>&1; then
    echo "+ useradd --system --user-group --no-create-home --shell /usr/sbin/nologin $user"
    useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$user"
fi
uid=$(id -u "$user")
gid=$(id -g "$user")

# subordinate ids: the helpers, and a range of 65536 ids after every range already given out
if ! command -v newuidmap >/dev/null 2>&1 || ! command -v newgidmap >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        echo "+ apt-get install uidmap"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq uidmap; } >/dev/null; then
            echo "sandbox-nonroot-test: apt-get install uidmap failed (the subordinate-id test is skipped, or fails under CI=true)" >&2
        fi
    else
        echo "sandbox-nonroot-test: no newuidmap and no apt-get (the subordinate-id test is skipped, or fails under CI=true)" >&2
    fi
fi
touch /etc/subuid /etc/subgid
start=$(awk -F: 'BEGIN { end = 231072 } NF == 3 && $2 + $3 > end { end = $2 + $3 } END { print end }' /etc/subuid /etc/subgid)
for file in /etc/subuid /etc/subgid; do
    if ! grep -qE "^($user|$uid):[0-9]+:[1-9]" "$file"; then
        echo "+ echo $user:$start:65536 >>$file"
        echo "$user:$start:65536" >>"$file"
    fi
done

work=$(mktemp -d /var/tmp/swarm-sandbox-nonroot.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
for bin in $bins; do
    install -m 0755 "$bin" "$work/"
done

as_user() {
    setpriv --reuid="$uid" --regid="$gid" --init-groups -- \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work" LANG=C.UTF-8 \
        CI="${CI:-}" RUST_BACKTRACE=1 "$@"
}

# the code-benchmark tests read fixtures from the repository: they need it readable
skip=()
if ! as_user test -r "$repo/eval/tests/fixtures/eval/humaneval" ||
    ! as_user test -x "$repo/eval/tests/fixtures/eval/humaneval"; then
    why="$user cannot read $repo/eval/tests/fixtures (the isolation tests still run as $user; code_benchmarks ran as root)"
    echo "sandbox-nonroot-test: $why"
    if [ -n "${SWARM_SKIP_LOG:-}" ]; then
        echo "skipped: sandbox code_benchmarks as an unprivileged user: $why" >>"$SWARM_SKIP_LOG"
    fi
    skip=(--skip code_benchmarks)
fi

status=0
cd "$work"
for bin in $bins; do
    name=$(basename "$bin")
    echo "+ as $user (uid $uid, gid $gid): $name ${skip[*]} $*"
    as_user "$work/$name" "${skip[@]}" "$@" || status=$?
    if [ "$status" -ne 0 ]; then
        echo "sandbox-nonroot-test: $name failed as $user (exit $status)" >&2
        exit "$status"
    fi
done
echo "sandbox-nonroot-test: every swarm-sandbox test passed as $user (non-root mode)"
