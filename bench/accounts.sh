#!/usr/bin/env bash
# Benchmark of the accounts path (prints figures; asserts nothing):
#   1. GET /v1/me at full speed on a warm session cache: requests/s, p50, p99;
#   2. the p99 of GET /v1/me at a fixed rate, alone and while 200 logins run at once.
# Builds and starts what it needs (throwaway stack, MODE emulator, one gateway) on loopback.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
./scripts/install-deps.sh --with-bench >/dev/null
./scripts/build.sh >/dev/null
bin=${MB_BUILD_DIR:-$root/build}

work=$(mktemp -d /tmp/mb-bench-XXXXXX)
stack=$(mktemp -d /tmp/mb-bench-stack-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ./scripts/stack.sh stop "$stack" >/dev/null 2>&1 || true
    rm -rf "$work" "$stack"
}
trap cleanup EXIT
./scripts/stack.sh start "$stack" >/dev/null
eval "$(./scripts/stack.sh env "$stack")"

sim_port=28190
gw_port=28180
MODESIM_LISTEN=127.0.0.1:$sim_port MODESIM_LOG_LEVEL=warn "$bin/tests/mode-sim/mode-sim" >"$work/sim.log" 2>&1 &
pids+=($!)
# The login storm logs in to one account over and over: lift its attempt limit for the measurement.
MB_LISTEN=127.0.0.1:$gw_port MB_MODE_API_URL=http://127.0.0.1:$sim_port MB_MODE_PROJECT_ID=1 \
    MB_MODE_PROJECT_KEY=sim-project-key MB_SECRET_KEY=$(openssl rand -base64 32) \
    MB_PUBLIC_URL=http://127.0.0.1:$gw_port MB_LOG_LEVEL=warn \
    MB_RATE_LOGIN_FAILURES_PER_ACCOUNT=1000000/1m \
    "$bin/services/gateway/modebridge-gateway" >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$gw_port/readyz" 2>/dev/null && break
    sleep 0.1
done

email=bench@example.com
password='correct horse battery staple'
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Bench\"}" "http://127.0.0.1:$gw_port/v1/auth/register"
psql -q "$MB_DATABASE_URL" -c "UPDATE users SET email_verified_at = now()"
login_body="{\"email\":\"$email\",\"password\":\"$password\"}"
token=$(curl -fsS -H 'Content-Type: application/json' -d "$login_body" "http://127.0.0.1:$gw_port/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

load="$bin/bench/mb-load"
me_url=http://127.0.0.1:$gw_port/v1/me
auth="Authorization: Bearer $token"
echo "== GET /v1/me, warm session cache, closed loop, 64 connections"
"$load" --url "$me_url" -H "$auth" -c 64 -d 10s --label me-warm

rate=${ME_RATE:-1000}
echo
echo "== GET /v1/me at $rate requests/s, alone"
"$load" --url "$me_url" -H "$auth" -c 16 --rate "$rate" -d 15s --label me-alone

echo
echo "== GET /v1/me at $rate requests/s, while 200 logins run at once"
"$load" --url "http://127.0.0.1:$gw_port/v1/auth/login" -X POST --body "$login_body" -c 200 -d 19s \
    --warmup 1s --timeout 30s --label login-storm >"$work/storm.txt" &
storm=$!
sleep 2
"$load" --url "$me_url" -H "$auth" -c 16 --rate "$rate" -d 15s --label me-during-storm
wait "$storm" || true
echo
echo "== the login storm itself"
cat "$work/storm.txt"
