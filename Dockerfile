# Multi-stage build: compile in the Rust image, run in a slim Debian with only what the binary needs.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml diesel.toml ./
COPY src ./src
COPY migrations ./migrations
RUN cargo build --release --locked && strip target/release/mijnkwh

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /app --create-home mijnkwh
COPY --from=build /src/target/release/mijnkwh /usr/local/bin/mijnkwh
USER mijnkwh
WORKDIR /app
ENV BIND_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["mijnkwh"]
CMD ["serve"]
