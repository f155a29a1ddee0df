# esgate on Debian 12 (bookworm): a build stage with the compiler and -dev packages, and a runtime
# stage with only the shared libraries the binary links, running as the unprivileged user esgate.
#   docker build -t esgate .
#   docker run -v /srv/esgate/config:/etc/esgate:ro -v esgate-state:/var/lib/esgate -p 9243:9243 esgate
# tests/integration/test_deploy.py checks that every COPY source exists and that the runtime
# packages below provide every library the binary needs.

FROM debian:bookworm AS build
WORKDIR /src
# The package list first: editing the sources does not re-run apt-get.
COPY scripts/install-deps scripts/install-deps
RUN scripts/install-deps build && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY gateway/ gateway/
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF && \
    cmake --build build --target esgate && \
    strip build/bin/esgate && \
    build/bin/esgate --version

FROM debian:bookworm
# Runtime libraries of the binary (the -dev packages of scripts/install-deps without headers),
# curl for the health check, ca-certificates for https:// upstreams verified by the system store.
RUN apt-get update && \
    apt-get install -y --no-install-recommends \
      libboost-json1.81.0 libboost-url1.81.0 libboost-container1.81.0 libboost-system1.81.0 \
      libssl3 libyaml-cpp0.7 libhiredis0.14 libcrypt1 libre2-9 libspdlog1.10 libfmt9 \
      libjemalloc2 zlib1g libprometheus-cpp-core1.0 libstdc++6 libgcc-s1 \
      ca-certificates curl && \
    rm -rf /var/lib/apt/lists/*
# A fixed uid/gid, so files prepared for the container (the compose stack's setup container
# writes certificates and the Elasticsearch password) can be owned by it: 10001:10001.
RUN groupadd --system --gid 10001 esgate && \
    useradd --system --uid 10001 --gid esgate --home-dir /var/lib/esgate --no-create-home \
      --shell /usr/sbin/nologin esgate && \
    install -d -o root -g esgate -m 0750 /etc/esgate && \
    install -d -o esgate -g esgate -m 0750 /var/lib/esgate
COPY --from=build /src/build/bin/esgate /usr/local/bin/esgate
# Default configuration (plain HTTP, upstream http://elasticsearch:9200); mount your own over it.
COPY --chown=root:esgate config/docker/ /etc/esgate/
# /etc/esgate: esgate.yaml, roles.yml, certificates (read-only is enough).
# /var/lib/esgate: users.yml, created at the first start with a generated admin password.
VOLUME ["/etc/esgate", "/var/lib/esgate"]
USER esgate:esgate
EXPOSE 9243
# 200 = at least one Elasticsearch node answers (green or yellow); 503 = none does. -k: the
# probe sends no credential, and the listener may be HTTPS with a private CA.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsk -o /dev/null https://127.0.0.1:9243/_esgate/health || \
      curl -fs -o /dev/null http://127.0.0.1:9243/_esgate/health || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/esgate"]
CMD ["--config", "/etc/esgate/esgate.yaml"]
