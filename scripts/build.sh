#!/usr/bin/env bash
# Configures and builds modebridge into build/ (Ninja, ccache when present). Extra arguments go to CMake.
# MB_BUILD_TARGETS (space-separated, e.g. "modebridge-gateway modebridge-ingest") builds only those.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${MB_BUILD_DIR:-$root/build}
build_type=${MB_BUILD_TYPE:-RelWithDebInfo}

cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DMB_WERROR=ON "$@" >/dev/null
targets=()
for t in ${MB_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
