#!/usr/bin/env bash
# The whole test run on a fresh Debian 12 machine: installs what is missing, builds, starts a throwaway
# PostgreSQL, Redis and SMTP sink on loopback, runs every test (unit and integration) with ctest, and
# stops the stack. Extra arguments go to ctest (e.g. -R register, -L unit). The compose test (label
# `compose`, tests/compose/run.sh) runs docker-compose.yml for real and takes a few minutes; skip it with
# MB_SKIP_COMPOSE_TEST=1 (or -LE compose). The fuzz tests (label `fuzz`, scripts/fuzz.sh) build
# tests/fuzz with clang into build-fuzz/ and run it for under a minute; skip them with -LE fuzz.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

./scripts/install-deps.sh --with-fuzz # clang for the fuzz tests (scripts/fuzz.sh)
./scripts/build.sh

stack_dir=$(mktemp -d /tmp/mb-test-XXXXXX)
cleanup() {
    ./scripts/stack.sh stop "$stack_dir" >/dev/null 2>&1 || true
    rm -rf "$stack_dir"
}
trap cleanup EXIT
./scripts/stack.sh start "$stack_dir"
eval "$(./scripts/stack.sh env "$stack_dir")"

ctest --test-dir "${MB_BUILD_DIR:-$root/build}" --output-on-failure -j "$(nproc)" "$@"
