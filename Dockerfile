# Builds esgate on Debian 12 with the same script users run (scripts/install-deps + CMake).
FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN scripts/install-deps build && \
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DESGATE_BUILD_TESTS=OFF && \
    cmake --build build --target esgate

FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends libboost-json1.81.0 \
      libboost-url1.81.0 libssl3 libyaml-cpp0.7 libhiredis0.14 libcrypt1 libre2-9 libspdlog1.10 \
      libjemalloc2 \
      ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/bin/esgate /usr/local/bin/esgate
COPY config/docker/ /etc/esgate/
EXPOSE 9243
ENTRYPOINT ["/usr/local/bin/esgate"]
