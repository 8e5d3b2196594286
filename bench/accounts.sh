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
me_at_rate() { # <label>: GET /v1/me at $rate requests/s for 15 s
    "$load" --url "$me_url" -H "$auth" -c 16 --rate "$rate" -d 15s --label "$1"
}
# storm <label> [mb-load options]: 200 logins at once (closed loop) for 19 s, in the background.
storm() {
    local label=$1
    shift
    "$load" --url "http://127.0.0.1:$gw_port/v1/auth/login" -X POST --body "$login_body" -c 200 -d 19s \
        --warmup 1s --timeout 30s --label "$label" "$@" >"$work/$label.txt" &
    storm_pid=$!
    sleep 2
}
p99_of() { grep -m1 'latency ms' "$work/$1.txt" | sed 's/.* p99 \([0-9.]*\).*/\1/'; }

echo
echo "== GET /v1/me at $rate requests/s, alone"
me_at_rate me-alone | tee "$work/me-alone.txt"

echo
echo "== GET /v1/me at $rate requests/s, while 200 clients log in at once and back off as told (Retry-After)"
storm storm-polite --honor-retry-after
me_at_rate me-polite | tee "$work/me-polite.txt"
wait "$storm_pid" || true
echo
echo "== GET /v1/me at $rate requests/s, while 200 clients flood logins, ignoring Retry-After"
storm storm-flood
me_at_rate me-flood | tee "$work/me-flood.txt"
wait "$storm_pid" || true
echo
echo "== the login storms themselves"
cat "$work/storm-polite.txt" "$work/storm-flood.txt"

echo
echo "== GET /v1/me p99 side by side (goal: during a storm within 2x of alone)"
alone=$(p99_of me-alone)
printf '%-44s %10s %8s\n' "" "p99 ms" "ratio"
for row in "alone:me-alone" "200 logins, clients honour Retry-After:me-polite" "200 logins, a flood ignoring Retry-After:me-flood"; do
    name=${row%%:*} file=${row##*:}
    p=$(p99_of "$file")
    printf '%-44s %10s %8s\n' "$name" "$p" "$(awk -v a="$p" -v b="$alone" 'BEGIN { printf "%.2fx", a / b }')"
done
