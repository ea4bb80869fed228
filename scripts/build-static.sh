#!/usr/bin/env bash
# Static binaries (glibc, +crt-static) of coordinator, agent and llm-sim, and the `FROM scratch`
# image that holds all three. Pulls no image: works on a Docker engine without registry access.
#
#   scripts/build-static.sh              # binaries + image swarmbench:dev
#   scripts/build-static.sh --no-image   # binaries and the image's root folder only
#
# Environment:
#   IMAGE=swarmbench:dev                 image tag
#   CARGO_TARGET_DIR=target-static       cargo's target folder (kept apart from target/, so the
#                                        static flags never invalidate the normal debug build)
#   SWARM_OTLP=1                         build with OTLP export (OTEL_EXPORTER_OTLP_ENDPOINT);
#                                        0 builds without it (smaller, faster)
#
# Result: $CARGO_TARGET_DIR/image/ (the image's whole file system: /usr/local/bin/{coordinator,
# agent,llm-sim}, /etc/{passwd,group,nsswitch.conf}, /etc/ssl/certs/ca-certificates.crt and the
# writable mount points /certs, /outputs, /plans, /tmp) and, unless --no-image, the image.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-swarmbench:dev}
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-static}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR=$PWD/$TARGET_DIR ;; esac
BUILD_IMAGE=1
for a in "$@"; do
  case "$a" in
    --no-image) BUILD_IMAGE=0 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done

TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
case "$TRIPLE" in
  *-unknown-linux-gnu) ;;
  *) echo "build-static.sh needs a *-unknown-linux-gnu Rust host (got $TRIPLE)" >&2; exit 1 ;;
esac
FEATURES=()
if [ "${SWARM_OTLP:-1}" != 0 ]; then
  FEATURES=(--features swarm-coordinator/otlp,swarm-agent/otlp)
fi

echo "==> cargo build --release --target $TRIPLE (+crt-static) into $TARGET_DIR"
t0=$SECONDS
# An explicit --target keeps RUSTFLAGS away from build scripts and proc macros (which must stay
# dynamic); the three binaries link glibc, libstdc++ and libgcc statically.
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" CARGO_TARGET_DIR="$TARGET_DIR" \
  cargo build --release --target "$TRIPLE" \
  -p swarm-coordinator -p swarm-agent -p llm-sim "${FEATURES[@]}"
echo "    $((SECONDS - t0)) s"

BIN=$TARGET_DIR/$TRIPLE/release
ROOT=$TARGET_DIR/image
rm -rf "$ROOT"
mkdir -p "$ROOT/usr/local/bin" "$ROOT/etc/ssl/certs" "$ROOT/certs" "$ROOT/outputs" \
  "$ROOT/plans" "$ROOT/tmp"
for b in coordinator agent llm-sim; do
  if readelf -d "$BIN/$b" 2>/dev/null | grep -q NEEDED; then
    echo "$BIN/$b is not static:" >&2
    readelf -d "$BIN/$b" | grep NEEDED >&2
    exit 1
  fi
  strip -o "$ROOT/usr/local/bin/$b" "$BIN/$b"
  # the stripped copy must still run on its own
  "$ROOT/usr/local/bin/$b" --version >/dev/null
done
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/tmp:/sbin/nologin
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
nonroot:x:65532:
EOF
# static glibc resolves with its built-in files and dns backends; name them explicitly
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
# the agents' HTTPS clients use the system roots (rustls-platform-verifier, native roots)
CA_BUNDLE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
if [ -f "$CA_BUNDLE" ]; then
  cp "$CA_BUNDLE" "$ROOT/etc/ssl/certs/ca-certificates.crt"
else
  echo "warning: no CA bundle at $CA_BUNDLE; https targets with public certificates will fail" >&2
  : >"$ROOT/etc/ssl/certs/ca-certificates.crt"
fi
# mount points any uid may write to (sticky, like /tmp): named volumes copy these modes
chmod 1777 "$ROOT/certs" "$ROOT/outputs" "$ROOT/tmp"
chmod 0755 "$ROOT/plans"
chmod 0644 "$ROOT/etc/passwd" "$ROOT/etc/group" "$ROOT/etc/nsswitch.conf" \
  "$ROOT/etc/ssl/certs/ca-certificates.crt"
du -sh "$ROOT/usr/local/bin"/*

if [ "$BUILD_IMAGE" = 1 ]; then
  echo "==> docker build -f Dockerfile.scratch -t $IMAGE"
  # no buildx plugin: the classic builder (FROM scratch needs nothing from a registry)
  if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
  docker build -f Dockerfile.scratch -t "$IMAGE" \
    --label "org.opencontainers.image.revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "$ROOT"
  docker image ls "$IMAGE"
fi
