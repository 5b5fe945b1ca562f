# dgbot-server in a container (docs/deploy.md). Two stages: the Rust toolchain builds the
# widget (`cargo xtask build`: the wasm app split into chunks by wasm-split, the minified loader,
# and the server's release binary); the runtime image is Debian slim with only what the server serves.
#
#   docker build -t dgbot .
#   docker run -p 8080:8080 -v dgbot-data:/app/target dgbot
#
# Not built in this repository's CI (its machines have no container runtime); see
# docs/deploy.md for what it contains and how to check it.

FROM rust:1-bookworm AS build
# node/npm: terser (the loader) and wasm-opt come from npm; xtask installs them,
# wasm-split-cli, wasm-bindgen-cli, the wasm32 target and rust-src into the build when missing.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo xtask build

FROM debian:bookworm-slim
# ca-certificates: webhooks and model calls go out over https.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin dgbot
WORKDIR /app
COPY --from=build /src/target/release/dgbot-server /usr/local/bin/dgbot-server
COPY --from=build /src/dist ./dist
COPY --from=build /src/loader ./loader
COPY --from=build /src/server/demo ./server/demo
COPY --from=build /src/server/agent ./server/agent
COPY --from=build /src/server/dgbot.toml ./server/dgbot.toml
# The shipped configuration keeps its database in ../target/ (relative to the file):
# /app/target, the one directory the server writes. Mount a volume there, or mount your own
# configuration over /app/server/dgbot.toml with `database = "/data/dgbot.sqlite"`.
RUN mkdir -p /app/target && chown dgbot /app/target
VOLUME ["/app/target"]
USER dgbot
ENV DGBOT_BIND=0.0.0.0:8080 \
    DGBOT_CONFIG=/app/server/dgbot.toml \
    DGBOT_DIST=/app/dist \
    DGBOT_LOADER=/app/loader \
    DGBOT_DEMO=/app/server/demo \
    DGBOT_LOG_FORMAT=json
EXPOSE 8080
# SIGTERM (docker stop) drains requests in flight for DGBOT_DRAIN_SECS; give it longer than that.
STOPSIGNAL SIGTERM
CMD ["dgbot-server"]
