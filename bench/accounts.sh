#!/usr/bin/env bash
# Benchmark of the accounts path (prints figures; asserts nothing):
#   1. GET /v1/me at full speed on a warm session cache: requests/s, p50, p99;
#   2. the p99 of GET /v1/me at a fixed rate, alone and while 200 logins run at once.
# Builds and starts what it needs (throwaway stack, MODE emulator, one gateway) on loopback.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start

sim_port=28190
gw_port=28180
start_mode_sim $sim_port
# The login storm logs in to one account over and over: lift its attempt limit for the measurement.
start_gateway $gw_port $sim_port MB_RATE_LOGIN_FAILURES_PER_ACCOUNT=1000000/1m
wait_ready $gw_port
bench_login $gw_port

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
