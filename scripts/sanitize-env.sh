# Sourced by scripts/test.sh --sanitize / --tsan, and by hand to run one test of a sanitizer build:
#
#   . scripts/sanitize-env.sh address     # or: thread
#   ./build-asan/tests/integration_tests --run_test=live_events
#
# Sets build_dir (build-asan or build-tsan; MB_BUILD_DIR overrides), build_targets (empty: all) and
# ctest_filter (what the run selects), and exports the sanitizers' options: stop at the first report,
# abort (a crash ctest and the tests see), print the stack. Children (the services) inherit them.
sanitize_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Boost.Test leaves deadly signals to the sanitizer, which prints where they came from.
export BOOST_TEST_CATCH_SYSTEM_ERRORS=no
case "${1:-}" in
    address)
        build_dir=${MB_BUILD_DIR:-$sanitize_root/build-asan}
        build_targets=""
        # The compose test builds images from the binaries: not a sanitizer run's business.
        ctest_filter=(-LE 'compose|fuzz')
        export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:disable_coredump=1"
        export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
        ;;
    thread)
        build_dir=${MB_BUILD_DIR:-$sanitize_root/build-tsan}
        # The concurrent parts: background loop, HTTP connection pool, Redis subscriber, session cache
        # (unit); PostgreSQL pool, session bus and live hub (through TSan-built services).
        build_targets="base_tests client_tests redis_tests gateway_tests integration_tests
            modebridge-gateway modebridge-ingest mode-sim"
        ctest_filter=(-R '^(base_tests[.]background_loop|client_tests[.]http_client|redis_tests[.]redis|gateway_tests[.]session_cache|integration_tests[.](pg_pool|sessions|live_events|live_membership|live_order|live_protection|end_to_end))$')
        export TSAN_OPTIONS="halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:disable_coredump=1"
        ;;
    *)
        echo "usage: . scripts/sanitize-env.sh address|thread" >&2
        return 2
        ;;
esac
