# mode-sim image: the MODE emulator (tests/mode-sim), for local trials only (compose profile `dev`). Build
# from the top of the repository, preferably with BuildKit (it skips the stage not chosen by BUILD; the
# classic builder runs both; see docs/operations.md):
#   DOCKER_BUILDKIT=1 docker build -f deploy/mode-sim.Dockerfile -t modebridge-mode-sim .
# BUILD=source (default) compiles in the build stage with the project's own scripts; BUILD=prebuilt takes
# the binaries already built on the host, stripped into .prebuilt/ (what tests/compose/run.sh does).
# The build stages are the same in every service Dockerfile, so a second image reuses the first's.
ARG BUILD=source
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS build-source
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN ./scripts/install-deps.sh --build-only && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake cmake
COPY deploy/sql deploy/sql
COPY common common
COPY services services
COPY tests tests
COPY scripts/build.sh scripts/
# The build type the tests run (RelWithDebInfo, -O2); the debug information is stripped below.
RUN MB_BUILD_DIR=/src/build \
    MB_BUILD_TARGETS="modebridge-gateway modebridge-ingest mode-sim" \
    ./scripts/build.sh -DMB_BUILD_BENCH=OFF && \
    mkdir /out && \
    strip -o /out/modebridge-gateway build/services/gateway/modebridge-gateway && \
    strip -o /out/modebridge-ingest build/services/webhook-ingest/modebridge-ingest && \
    strip -o /out/mode-sim build/tests/mode-sim/mode-sim

FROM ${BASE_IMAGE} AS build-prebuilt
COPY .prebuilt/ /out/

FROM build-${BUILD} AS build

FROM ${BASE_IMAGE}
COPY scripts/install-deps.sh /tmp/
RUN /tmp/install-deps.sh --image-runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh && \
    useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin modebridge
COPY --from=build /out/mode-sim /usr/local/bin/
USER 10001:10001
ENV MODESIM_LISTEN=0.0.0.0:8090
EXPOSE 8090
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8090/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/mode-sim"]
