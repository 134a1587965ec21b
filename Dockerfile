# linli images: the API (the last stage, `runtime`, the default target) and the TLS proxy in
# front of it (target `proxy`). `docker compose build` builds both (see docker-compose.yml).
# Needs Docker 23 or later (BuildKit with heredocs built in; no frontend image is pulled).
# Only crates from crates.io are downloaded at build time; the Swagger UI is vendored.
#
# Building where Docker Hub, crates.io or deb.debian.org are slow or unreachable (mainland
# China): every source is a build argument, set in .env for compose (see README, 部署手册):
#   BASE_REGISTRY   registry prefix of the base images (default docker.io/library)
#   CARGO_REGISTRY  a sparse crates.io mirror, e.g. sparse+https://rsproxy.cn/index/
#   DEBIAN_MIRROR   a Debian mirror host, e.g. mirrors.tuna.tsinghua.edu.cn
#   LINLI_VERSION   the version the images are labelled with (default dev)

ARG BASE_REGISTRY=docker.io/library
ARG LINLI_VERSION=dev

############################
# Build stage
############################
FROM ${BASE_REGISTRY}/rust:1-bookworm AS builder
ARG CARGO_REGISTRY=
WORKDIR /build
ENV CARGO_TERM_COLOR=never
# An optional crates.io mirror: cargo reads source replacement from its home's config.
RUN if [ -n "$CARGO_REGISTRY" ]; then \
        printf '[source.crates-io]\nreplace-with = "mirror"\n[source.mirror]\nregistry = "%s"\n' \
            "$CARGO_REGISTRY" > "$CARGO_HOME/config.toml"; \
    fi

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
# The server serves the committed OpenAPI document (compiled in with include_str!).
COPY openapi openapi
RUN find src entity/src migration/src -type f -exec touch {} + \
    && cargo build --release --locked --bin linli \
    && install -m 0755 target/release/linli /usr/local/bin/linli

############################
# Proxy stage: nginx from the official image, terminating TLS in front of the API replicas
############################
FROM ${BASE_REGISTRY}/nginx:1.28 AS proxy
ARG LINLI_VERSION
LABEL org.opencontainers.image.title="linli-proxy" \
      org.opencontainers.image.version="${LINLI_VERSION}"
# The operator's certificate and key are mounted at /etc/nginx/tls (docker-compose.yml).
# This file is also what tests/api/proxy.rs runs, with Debian's nginx, in front of two replicas:
# keep it self-contained (http-context directives only) and keep the `server api:8080` line.
COPY <<"NGINX" /etc/nginx/conf.d/default.conf
# linli behind nginx: TLS, the forwarded address, and retries that never repeat a write.

# Docker's own DNS on a compose network, asked again every 10 s for the replicas of `api`.
resolver 127.0.0.11 valid=10s ipv6=off;

upstream linli_api {
    zone linli_api 64k;
    # `resolve`: the replicas of `api` are looked up again as they come and go (`docker compose
    # up --scale api=N`, a replica recreated with a new address); needs nginx 1.27.3 or later.
    # A replica that cannot be reached (stopping, restarting) is left out for fail_timeout after
    # max_fails errors. An answer of any status, 503 included, is not an error here: a replica
    # that answers 503 for a moment (Redis down) stays in.
    server api:8080 resolve max_fails=2 fail_timeout=3s;
    # No `keepalive`: every request opens its own connection, so a replica that stops taking
    # connections is seen at connect time, before the request is sent, and the request goes to
    # the next replica whatever its method. When rolling replicas, wait fail_timeout after one
    # is healthy again before stopping the next.
}

server {
    listen 80;
    listen [::]:80;
    server_name _;
    # Mini-programs only speak HTTPS to a registered domain; plain HTTP only redirects.
    location / {
        return 308 https://$host$request_uri;
    }
}

server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name _;

    ssl_certificate     /etc/nginx/tls/fullchain.pem;
    ssl_certificate_key /etc/nginx/tls/privkey.pem;
    # WeChat requires TLS 1.2 or later from a mini-program's server domain.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:linli_tls:10m;
    ssl_session_timeout 1h;
    ssl_session_tickets off;

    add_header Strict-Transport-Security "max-age=31536000" always;
    server_tokens off;

    # Photos and roster files are at most 5 MiB; the API refuses larger ones itself with a
    # clear error, so let a little more through.
    client_max_body_size 6m;
    client_body_timeout 30s;

    location / {
        proxy_pass http://linli_api;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        # Replaced, not appended: what a client sends in X-Forwarded-For is dropped, and the API
        # (LINLI_TRUSTED_PROXIES naming this proxy's network) takes the address nginx saw.
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_connect_timeout 2s;
        proxy_send_timeout 30s;
        proxy_read_timeout 60s;
        # Try the next replica only when this one could not be reached or timed out; nginx
        # never passes a POST or PATCH on once it has been sent (no `non_idempotent`).
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;
        proxy_next_upstream_timeout 10s;
    }
}
NGINX

############################
# Runtime stage: the API (default target)
############################
FROM ${BASE_REGISTRY}/debian:bookworm-slim AS runtime
ARG DEBIAN_MIRROR=
ARG LINLI_VERSION
LABEL org.opencontainers.image.title="linli" \
      org.opencontainers.image.version="${LINLI_VERSION}"

# ca-certificates: TLS to the WeChat API. No curl: the compose healthcheck uses bash's /dev/tcp.
RUN if [ -n "$DEBIAN_MIRROR" ]; then \
        sed -i "s|deb.debian.org|$DEBIAN_MIRROR|g" /etc/apt/sources.list.d/debian.sources; \
    fi \
    && apt-get update \
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
