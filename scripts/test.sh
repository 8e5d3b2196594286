#!/usr/bin/env bash
# The whole test run on a fresh Debian 12 machine: installs what is missing, builds, starts a throwaway
# PostgreSQL, Redis and SMTP sink on loopback, runs every test (unit and integration) with ctest, and
# stops the stack. Extra arguments go to ctest (e.g. -R register, -L unit). The compose test (label
# `compose`, tests/compose/run.sh) runs docker-compose.yml for real and takes a few minutes; skip it with
# MB_SKIP_COMPOSE_TEST=1 (or -LE compose). The fuzz tests (label `fuzz`, scripts/fuzz.sh) build
# tests/fuzz with clang into build-fuzz/ and run it for under a minute; skip them with -LE fuzz.
#
# Sanitizer runs (a first argument; the rest still goes to ctest):
#   --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer: builds build-asan (MB_SANITIZE=address) and
#               runs the whole suite there, the services the integration tests start being the sanitized
#               binaries; the compose test is skipped.
#   --tsan      ThreadSanitizer: builds build-tsan (MB_SANITIZE=thread) with only the tests of the
#               concurrent parts (live hub, pools, caches, Redis subscriber, session bus) and runs those.
# Every sanitizer stops at its first report; a report in a service's log fails the test that started it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

sanitize=""
case "${1:-}" in
    --sanitize) sanitize=address; shift ;;
    --tsan) sanitize=thread; shift ;;
esac

./scripts/install-deps.sh --with-fuzz # clang for the fuzz tests (scripts/fuzz.sh)
if [ -z "$sanitize" ]; then
    ./scripts/build.sh
    build_dir=${MB_BUILD_DIR:-$root/build}
else
    . ./scripts/sanitize-env.sh "$sanitize"
    # A build nothing else shares, so it runs at a lower priority than interactive builds.
    MB_BUILD_DIR=$build_dir MB_BUILD_TARGETS=${MB_BUILD_TARGETS:-$build_targets} \
        nice -n 10 ./scripts/build.sh -DMB_SANITIZE="$sanitize" -DMB_BUILD_BENCH=OFF
    set -- "${ctest_filter[@]}" "$@"
fi

stack_dir=$(mktemp -d /tmp/mb-test-XXXXXX)
cleanup() {
    ./scripts/stack.sh stop "$stack_dir" >/dev/null 2>&1 || true
    rm -rf "$stack_dir"
}
trap cleanup EXIT
./scripts/stack.sh start "$stack_dir"
eval "$(./scripts/stack.sh env "$stack_dir")"

ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
