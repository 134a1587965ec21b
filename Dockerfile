# syntax=docker/dockerfile:1
#
# linli API image: `docker compose up -d` (see docker-compose.yml and .env.example).
# Only crates from crates.io are downloaded at build time; the Swagger UI is vendored.

############################
# Build stage
############################
FROM rust:1-bookworm AS builder
WORKDIR /build
ENV CARGO_TERM_COLOR=never

# 1) Dependency layer: only the manifests and the lock file, with empty crate roots. This layer is
#    rebuilt only when Cargo.toml / Cargo.lock change, not on every source edit.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
# Cargo.toml declares the bench targets, so their files must exist for any build (only
# `cargo bench` compiles them; editing one rebuilds this layer, which is rare).
COPY benches benches
RUN mkdir -p src entity/src migration/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src entity/src migration/src

# 2) The real sources. COPY keeps the files' original mtimes, which may be older than the dummy
#    build above, so touch them to make cargo rebuild the workspace crates (not the dependencies).
COPY src src
COPY entity/src entity/src
COPY migration/src migration/src
RUN find src entity/src migration/src -type f -exec touch {} + \
    && cargo build --release --locked --bin linli \
    && install -m 0755 target/release/linli /usr/local/bin/linli

############################
# Runtime stage
############################
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to the WeChat API. No curl: the compose healthcheck uses bash's /dev/tcp.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 linli \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin linli \
    && install -d -o 10001 -g 10001 -m 0750 /app /app/uploads

COPY --from=builder /usr/local/bin/linli /usr/local/bin/linli

WORKDIR /app
ENV LINLI_BIND=0.0.0.0:8080 \
    LINLI_UPLOAD_DIR=/app/uploads \
    RUST_LOG=info

# /app/uploads holds attachments (local storage backend): mount a volume there, as
# docker-compose.yml does. A fresh named volume inherits the uid 10001 ownership from the image.

USER 10001:10001
EXPOSE 8080

# SIGTERM (docker stop) starts a graceful shutdown; compose gives it stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/linli"]
CMD ["serve"]
