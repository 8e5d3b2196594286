#!/usr/bin/env bash
# Fuzzing with libFuzzer (tests/fuzz, README "Tests"): builds the fuzz targets into build-fuzz/ with clang
# (address and undefined-behaviour sanitizers), then runs each one over its seed corpus
# (tests/fuzz/corpus/<target>/) for a bounded time.
#
#   scripts/fuzz.sh [all]        build, then run (the default)
#   scripts/fuzz.sh build        configure and build build-fuzz/ only (installs clang-14 when missing)
#   scripts/fuzz.sh run [name]   run the built targets (or one) over their corpora
#
# MB_FUZZ_SECONDS: seconds per target (default 6: the seven targets take under a minute together).
# New inputs found go to a temporary directory, never into the committed corpus. A crash makes the run
# exit non-zero and prints the reproducer's path (kept under build-fuzz/artifacts/) and the command that
# replays it; keep that input in tests/fuzz/corpus/<target>/ once the bug is fixed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${MB_FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${MB_FUZZ_SECONDS:-6}

build() {
    if ! command -v clang++-14 >/dev/null ||
        [ ! -e "$(clang-14 -print-runtime-dir)/libclang_rt.fuzzer-$(uname -m).a" ]; then
        "$root/scripts/install-deps.sh" --with-fuzz
    fi
    if [ ! -f "$build_dir/build.ninja" ]; then
        CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DMB_FUZZ=ON >/dev/null
    fi
    # Every file here compiles with sanitizers and coverage, which no other build shares through ccache:
    # at low priority, so that other builds stay responsive.
    nice -n 10 cmake --build "$build_dir" -j "${MB_FUZZ_JOBS:-$(nproc)}"
}

run() {
    local only=${1:-}
    if [ ! -f "$build_dir/fuzz_targets.txt" ]; then
        echo "fuzz: $build_dir is not built; run scripts/fuzz.sh build" >&2
        exit 2
    fi
    local artifacts failed=()
    scratch=$(mktemp -d /tmp/mb-fuzz-XXXXXX)
    trap 'rm -rf "$scratch"' EXIT
    artifacts=$build_dir/artifacts
    mkdir -p "$artifacts"
    # Leaks are findings too; a sanitizer report is one line of context plus the stack.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    for t in $(cat "$build_dir/fuzz_targets.txt"); do
        if [ -n "$only" ] && [ "$t" != "$only" ]; then continue; fi
        mkdir -p "$scratch/$t" "$artifacts/$t"
        local log=$scratch/$t.log
        # The first directory receives new inputs; the committed corpus is only read.
        if "$build_dir/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$artifacts/$t/" "$scratch/$t" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
            echo "fuzz: $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs," \
                "$(find "$scratch/$t" -type f | wc -l) new inputs, no crash"
        else
            failed+=("$t")
            tail -n 60 "$log" >&2
            local repro
            repro=$(grep -o "Test unit written to .*" "$log" | tail -n 1 | sed 's/Test unit written to //')
            echo "fuzz: $t: CRASH; reproducer: ${repro:-(none written, see the log above)}" >&2
            [ -n "$repro" ] && echo "fuzz: replay with: $build_dir/fuzz_$t $repro" >&2
        fi
    done
    if [ ${#failed[@]} -ne 0 ]; then
        echo "fuzz: crashes in: ${failed[*]}" >&2
        exit 1
    fi
}

case "${1:-all}" in
    build) build ;;
    run) run "${2:-}" ;;
    all) build; run ;;
    *) echo "usage: $0 [all|build|run [target]]" >&2; exit 2 ;;
esac
