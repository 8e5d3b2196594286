#!/usr/bin/env bash
# The compose test: docker-compose.yml run for real, as an operator would, on a machine without a
# container registry. Installs Debian's docker.io, docker-compose and debootstrap when missing, starts
# dockerd when none answers (and stops it at the end), builds the debian:bookworm-slim base from the
# Debian mirror once (tests/compose/base-image.sh, cached in the engine), builds the images from the
# binaries already built on the host (BUILD=prebuilt: nothing is compiled again), and the PostgreSQL and
# Redis stand-ins of tests/compose/images. Then, under its own project name:
#   up --scale gateway=2 with the dev profile, wait until every container is healthy; trial.py first
#   (register, verify by mail, log in, make a home, live streams through the proxy and to each replica,
#   a signed webhook to webhook-ingest, the event on every stream); down; up; trial.py again (the user
#   still logs in, the event is still stored). It prints how long each phase took, and removes the
#   project with its volumes even when a step fails.
#
#   tests/compose/run.sh [build-dir]     (default: $MB_BUILD_DIR, else build/ at the top)
#
# MB_SKIP_COMPOSE_TEST=1 skips it (exit 77, which ctest reports as skipped). MB_COMPOSE_KEEP=1 leaves the
# project running after a failure, for a look (`docker-compose -p <project> ...`; remove it yourself).
# Needs root (dockerd, debootstrap). Debian's engine and client are called by their full paths: another
# `docker` may come first in PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=$(readlink -m "${1:-${MB_BUILD_DIR:-$root/build}}")
keep=${MB_COMPOSE_KEEP:-}
if [ -n "${MB_SKIP_COMPOSE_TEST:-}" ]; then
    echo "compose test: skipped (MB_SKIP_COMPOSE_TEST is set)"
    exit 77
fi
# The test stack's settings (scripts/test.sh exports MB_DATABASE_URL and others) must not reach the
# compose file's interpolation: it reads the environment before its env file.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^MB_' || true)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
readonly docker=/usr/bin/docker dockerd=/usr/sbin/dockerd compose=/usr/bin/docker-compose
cd "$root"

work=$(mktemp -d /tmp/mb-compose-XXXXXX)
chmod 755 "$work"
project=mbcomposetest$$
started_dockerd=""
now_ms() { echo $(($(date +%s%N) / 1000000)); }
test_start=$(now_ms)
timings=()

say() { echo "compose test: $*"; }

# phase <name> <command...>: runs it and records how long it took.
phase() {
    local name=$1 t0
    shift
    say "---- $name"
    t0=$(now_ms)
    "$@"
    timings+=("$(printf '%-22s %5d.%01d s' "$name" $((($(now_ms) - t0) / 1000)) $((($(now_ms) - t0) % 1000 / 100)))")
}

print_timings() {
    local total=$(($(now_ms) - test_start))
    say "---- time per phase"
    if [ ${#timings[@]} -gt 0 ]; then printf '  %s\n' "${timings[@]}"; fi
    printf '  %-22s %5d.%01d s\n' total $((total / 1000)) $((total % 1000 / 100))
}

dc() { "$compose" -p "$project" -f "$root/docker-compose.yml" --project-directory "$root" \
    --env-file "$work/env" --profile dev "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT
    if [ "$rc" -ne 0 ] && [ -n "$(dc ps -q 2>/dev/null)" ]; then
        say "failed; state and logs of the project:"
        dc ps || true
        dc logs --no-color --tail=40 || true
    fi
    if [ "$rc" -ne 0 ] && [ -n "$keep" ]; then
        say "MB_COMPOSE_KEEP is set: project $project left running (env file $work/env)"
    else
        dc down -v --remove-orphans >/dev/null 2>&1 || true
        rm -rf "$work"
        remove_binaries
    fi
    if [ -n "$started_dockerd" ] && { [ "$rc" -eq 0 ] || [ -z "$keep" ]; }; then
        stop_dockerd
    fi
    print_timings
    exit "$rc"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the engine

engine_answers() { "$docker" info >/dev/null 2>&1; }

start_dockerd() {
    if engine_answers; then
        say "using the running Docker engine"
        return
    fi
    say "starting dockerd (log: $work/dockerd.log)"
    setsid "$dockerd" >"$work/dockerd.log" 2>&1 </dev/null &
    echo $! >"$work/dockerd.pid"
    started_dockerd=$(cat "$work/dockerd.pid")
    local deadline=$((SECONDS + 60))
    until engine_answers; do
        if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$started_dockerd" 2>/dev/null; then
            tail -n 30 "$work/dockerd.log" >&2
            say "dockerd did not come up"
            return 1
        fi
        sleep 0.2
    done
}

stop_dockerd() {
    say "stopping the dockerd it started (pid $started_dockerd)"
    kill -TERM "$started_dockerd" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$started_dockerd" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL "$started_dockerd" 2>/dev/null || true
    started_dockerd=""
}

# ---------------------------------------------------------------- images and settings

# The programs the images take from the build directory (BUILD=prebuilt), stripped into .prebuilt/.
readonly binaries=(services/gateway/modebridge-gateway services/webhook-ingest/modebridge-ingest tests/mode-sim/mode-sim)

remove_binaries() {
    local b
    for b in "${binaries[@]}"; do rm -f "$root/.prebuilt/${b##*/}"; done
}

stage_binaries() {
    local b
    for b in "${binaries[@]}"; do
        if [ ! -x "$build_dir/$b" ]; then
            say "$build_dir/$b is missing: build first (scripts/build.sh)"
            return 1
        fi
    done
    for b in "${binaries[@]}"; do strip -o "$root/.prebuilt/${b##*/}" "$build_dir/$b"; done
}

build_stand_ins() {
    DOCKER_BUILDKIT=1 "$docker" build -q -t modebridge-test/postgres:15 tests/compose/images/postgres >/dev/null
    DOCKER_BUILDKIT=1 "$docker" build -q -t modebridge-test/redis:7 tests/compose/images/redis >/dev/null
}

free_ports() {
    python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])'
}

write_settings() {
    "$root/deploy/init-secrets.sh" "$work/secrets" >/dev/null
    read -r http_port ingest_port sim_port < <(free_ports)
    cat >"$work/env" <<EOF
COMPOSE_DOCKER_CLI_BUILD=1
DOCKER_BUILDKIT=1
MB_BUILD_FROM=prebuilt
MB_GATEWAY_IMAGE=modebridge-test/gateway:latest
MB_INGEST_IMAGE=modebridge-test/ingest:latest
MB_PROXY_IMAGE=modebridge-test/proxy:latest
MB_MODE_SIM_IMAGE=modebridge-test/mode-sim:latest
MB_MAIL_SINK_IMAGE=modebridge-test/mail-sink:latest
MB_POSTGRES_IMAGE=modebridge-test/postgres:15
MB_REDIS_IMAGE=modebridge-test/redis:7
MB_SECRETS_DIR=$work/secrets
MB_PUBLISH_ADDRESS=127.0.0.1
MB_HTTP_PORT=$http_port
MB_INGEST_PORT=$ingest_port
MB_SIM_PORT=$sim_port
MB_PUBLIC_URL=http://127.0.0.1:$http_port
MB_MODE_API_URL=http://mode-sim:8090
MB_MODE_PROJECT_ID=1
MB_SMTP_URL=smtp://mail-sink:2525
MB_WEBHOOK_URL=http://webhook-ingest:8081/v1/mode/events
MB_THREADS=2
MB_PASSWORD_HASH_THREADS=1
EOF
    export TRIAL_HTTP=http://127.0.0.1:$http_port TRIAL_INGEST=http://127.0.0.1:$ingest_port \
        TRIAL_WEBHOOK_URL=http://webhook-ingest:8081/v1/mode/events TRIAL_WEBHOOK_KEY_FILE=$work/secrets/webhook_key
}

build_images() {
    # The base is local: no pull. BuildKit (through the docker CLI) skips the source build stage.
    COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1 dc build -q
}

# ---------------------------------------------------------------- running it

# Every container of the project has a health check: wait until all report healthy.
wait_healthy() {
    local deadline=$((SECONDS + 180)) ids states
    while :; do
        ids=$(dc ps -q)
        states=$(for id in $ids; do "$docker" inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id"; done)
        if [ -n "$ids" ] && ! grep -qv ' healthy$' <<<"$states"; then
            say "$(wc -l <<<"$states") containers healthy"
            break
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "not all healthy within 180 s:"
            echo "$states" >&2
            return 1
        fi
        sleep 1
    done
    local gw
    TRIAL_GATEWAYS=""
    for gw in $(dc ps -q gateway); do
        TRIAL_GATEWAYS+=" $("$docker" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$gw"):8080"
    done
    [ "$(wc -w <<<"$TRIAL_GATEWAYS")" -eq 2 ] || { say "expected 2 gateway replicas, found:$TRIAL_GATEWAYS"; return 1; }
    export TRIAL_GATEWAYS TRIAL_MAIL_CONTAINER TRIAL_PG_CONTAINER
    TRIAL_MAIL_CONTAINER=$(dc ps -q mail-sink)
    TRIAL_PG_CONTAINER=$(dc ps -q postgres)
}

up() { dc up -d --scale gateway=2 --no-build && wait_healthy; }
down() { dc down; }

phase "install packages" "$root/scripts/install-deps.sh" --compose-only
phase "start engine" start_dockerd
phase "base image" "$root/tests/compose/base-image.sh"
phase "stage binaries" stage_binaries
phase "stand-in images" build_stand_ins
write_settings
phase "build images" build_images
phase "up, healthy" up
phase "trial" python3 "$root/tests/compose/trial.py" first "$work/state.json"
phase "down" down
phase "up again, healthy" up
phase "data kept" python3 "$root/tests/compose/trial.py" again "$work/state.json"
say "passed"
