#!/usr/bin/env bash
# Installs the Debian 12 packages modebridge needs to build, run and test. Idempotent: installs only
# what is missing, so a second run is quick. Used by the README commands, CI and the Dockerfiles.
set -euo pipefail

build_pkgs=(
    cmake g++ make ninja-build pkg-config ccache git
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-test1.81-dev
    libpqxx-dev libhiredis-dev libsodium-dev libcurl4-openssl-dev libfmt-dev libssl-dev
)
runtime_pkgs=(postgresql redis-server python3 python3-aiosmtpd curl ca-certificates procps)
# The tests' own tools: tests/openapi/validate.py holds docs/openapi.yaml to the services (YAML, and JSON
# Schema 2020-12, which Debian 12's python3-jsonschema 4.10 supports).
test_pkgs=(python3-yaml python3-jsonschema)
bench_pkgs=(wrk)
# Fuzzing (scripts/fuzz.sh): Debian's clang 14 and its compiler runtime, which holds libFuzzer and the
# sanitizers' runtimes (libclang_rt.fuzzer*; libfuzzer-14-dev only adds a standalone libFuzzer.a).
fuzz_pkgs=(clang-14 libclang-rt-14-dev)
# What the services' images (deploy/*.Dockerfile) run on: the shared libraries the binaries link, the CA
# certificates for MODE and SMTP over TLS, and curl for the health check.
image_pkgs=(libpqxx-6.4 libhiredis0.14 libsodium23 libboost-json1.81.0 libboost-url1.81.0 libfmt9 libssl3 libcurl4
    ca-certificates curl)
# The compose test (tests/compose/run.sh): Debian's engine and compose v1, and debootstrap for the base image.
compose_pkgs=(docker.io docker-compose debootstrap)

want=("${build_pkgs[@]}" "${runtime_pkgs[@]}" "${test_pkgs[@]}")
case "${1:-}" in
    --runtime-only) want=("${runtime_pkgs[@]}") ;;
    --build-only) want=("${build_pkgs[@]}") ;;
    --image-runtime) want=("${image_pkgs[@]}") ;;
    --with-bench) want+=("${bench_pkgs[@]}") ;;
    --with-fuzz) want+=("${fuzz_pkgs[@]}") ;;
    --with-compose) want+=("${compose_pkgs[@]}") ;;
    --compose-only) want=("${compose_pkgs[@]}") ;;
    "") ;;
    *) echo "usage: $0 [--runtime-only|--build-only|--image-runtime|--with-bench|--with-fuzz|--with-compose|--compose-only]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The postgresql and redis-server packages would start system-wide daemons on their default ports;
# this project starts its own throwaway instances, so keep the package scripts from starting services.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    created_policy=1
fi
cleanup() { if [ "$created_policy" = 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
