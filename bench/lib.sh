# shellcheck shell=bash
# Set-up shared by the benchmark scripts (sourced, not run): build, a throwaway stack, background
# services that end with the script, and a logged-in user. Every service listens on loopback only.
#
# After `bench_start`: $root (the repository), $bin (the build directory), $work (a scratch directory)
# and the stack's environment (MB_DATABASE_URL, MB_REDIS_URL, ...). On exit, whatever the script
# started is killed, the stack stopped and both directories removed.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Installs what is missing, builds (into $MB_BUILD_DIR, default build/), starts the stack.
bench_start() {
    cd "$root" || return 1
    "$root/scripts/install-deps.sh" --with-bench >/dev/null
    "$root/scripts/build.sh" >/dev/null
    bin=${MB_BUILD_DIR:-$root/build}
    work=$(mktemp -d /tmp/mb-bench-XXXXXX)
    stack=$(mktemp -d /tmp/mb-bench-stack-XXXXXX)
    pids=()
    trap bench_cleanup EXIT
    "$root/scripts/stack.sh" start "$stack" >/dev/null
    eval "$("$root/scripts/stack.sh" env "$stack")"
}

bench_cleanup() {
    # A wrapper (GATEWAY_WRAP: perf, heaptrack) does not pass the signal on: end its children first.
    for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    "$root/scripts/stack.sh" stop "$stack" >/dev/null 2>&1 || true
    rm -rf "$work" "$stack"
}

# run_bg <name> <command...>: runs it in the background, output to $work/<name>.log, killed on exit.
run_bg() {
    local name=$1
    shift
    "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
}

# start_mode_sim <port> [VAR=value...]: the MODE emulator (project key sim-project-key).
start_mode_sim() {
    local port=$1
    shift
    run_bg sim env MODESIM_LISTEN="127.0.0.1:$port" MODESIM_LOG_LEVEL=warn "$@" "$bin/tests/mode-sim/mode-sim"
}

# start_gateway <port> <mode-sim port> [VAR=value...]: one gateway on the stack, against the emulator.
# GATEWAY_WRAP (environment) is a command put before it, e.g. "heaptrack -o /tmp/gw" to profile a run.
start_gateway() {
    local port=$1 sim_port=$2
    shift 2
    # shellcheck disable=SC2086 # GATEWAY_WRAP is a command and its arguments
    run_bg gateway env MB_LISTEN="127.0.0.1:$port" MB_MODE_API_URL="http://127.0.0.1:$sim_port" \
        MB_MODE_PROJECT_ID=1 MB_MODE_PROJECT_KEY=sim-project-key MB_SECRET_KEY="$(openssl rand -base64 32)" \
        MB_PUBLIC_URL="http://127.0.0.1:$port" MB_LOG_LEVEL=warn MB_MAX_CONNECTIONS_PER_ADDRESS=0 "$@" ${GATEWAY_WRAP:-} "$bin/services/gateway/modebridge-gateway"
}

# wait_ready <port>: until GET /readyz answers 2xx there (10 s at most; the measurement shows a failure).
wait_ready() {
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$1/readyz" 2>/dev/null && return 0
        sleep 0.1
    done
}

# bench_login <gateway port>: registers bench@example.com, marks it verified in the database and logs
# in; sets $login_body (the login request's JSON) and $token (the session's bearer token).
bench_login() {
    local port=$1 email=bench@example.com password='correct horse battery staple'
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Bench\"}" \
        "http://127.0.0.1:$port/v1/auth/register"
    psql -q "$MB_DATABASE_URL" -c "UPDATE users SET email_verified_at = now()"
    login_body="{\"email\":\"$email\",\"password\":\"$password\"}"
    # shellcheck disable=SC2034 # read by the script that sourced this file
    token=$(curl -fsS -H 'Content-Type: application/json' -d "$login_body" "http://127.0.0.1:$port/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}
