# The swarmbench image for anyone with registry access: a Rust builder, static binaries of
# coordinator, agent and llm-sim, on distroless/static (no shell, uid 65532).
#   docker build -t swarmbench .                      # distroless runtime (default)
#   docker build --target python -t swarmbench:py .   # + Python 3.12, for agents that run
#                                                      #   code benchmarks (execute model code)
# Without a registry (air-gapped, or an engine that cannot pull), use scripts/build-static.sh:
# the same binaries in a FROM-scratch image (Dockerfile.scratch).
# The services pick their binary as the command: `docker run swarmbench agent --help`.

ARG RUST_IMAGE=rust:1-slim-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${RUST_IMAGE} AS build
# tokenizers (onig, esaxx) compile C and C++; static linking needs libstdc++.a (g++)
RUN apt-get update \
 && apt-get install -y --no-install-recommends g++ make binutils \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# OTLP trace export (OTEL_EXPORTER_OTLP_ENDPOINT); build with --build-arg FEATURES= to leave it out
ARG FEATURES=swarm-coordinator/otlp,swarm-agent/otlp
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    triple="$(rustc -vV | sed -n 's/^host: //p')"; \
    RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked \
      --target "$triple" -p swarm-coordinator -p swarm-agent -p llm-sim \
      ${FEATURES:+--features "$FEATURES"}; \
    mkdir -p /out/usr/local/bin /out/certs /out/outputs /out/plans /out/tmp; \
    for b in coordinator agent llm-sim; do \
      strip -o "/out/usr/local/bin/$b" "target/$triple/release/$b"; \
    done; \
    chmod 1777 /out/certs /out/outputs /out/tmp

# Agents that run code benchmarks need a Python interpreter next to the agent.
FROM ${PYTHON_IMAGE} AS python
RUN groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin nonroot
COPY --from=build /out/ /
ENV PATH=/usr/local/bin:$PATH
USER 65532:65532
WORKDIR /outputs
EXPOSE 7070 8000
CMD ["coordinator", "--help"]

FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=build /out/ /
ENV PATH=/usr/local/bin
USER 65532:65532
WORKDIR /outputs
EXPOSE 7070 8000
LABEL org.opencontainers.image.title="swarmbench" \
      org.opencontainers.image.description="distributed LLM load tester: coordinator, agent, llm-sim" \
      org.opencontainers.image.licenses="Apache-2.0"
CMD ["coordinator", "--help"]
