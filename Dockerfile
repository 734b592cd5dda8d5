# syntax=docker/dockerfile:1
#
# The ipsim binary in a small image that runs as a non-root user, for sweeps on batch engines
# (deploy/, docs/sweeps.md):
#
#   docker build -t ipsim .
#   docker run --rm ipsim sweep /scenarios/surge.json --vary surge.peak=100..300:50 --plan
#
# Two stages: the first builds ipsim from this repository with Rust on Debian 12 (bookworm);
# the second is Google's distroless "cc" image of the same Debian, which holds the C runtime
# the binary links to (glibc, libgcc) and no shell or package manager, and runs as the user
# `nonroot` (uid 65532). The bundled scenarios are in /scenarios. scripts/ci-docker-steps
# checks these steps where no Docker daemon runs (CI): see docs/sweeps.md for what it does
# and does not check.

ARG RUST_VERSION=1.95

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY benches benches
# The cache mounts keep the registry and the build folder between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin ipsim \
    && install -D -m 0755 target/release/ipsim /out/ipsim

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ipsim /usr/local/bin/ipsim
COPY scenarios /scenarios
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/ipsim"]
CMD ["--help"]
