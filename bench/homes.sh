#!/usr/bin/env bash
# Benchmark of a MODE action through the gateway (prints figures; asserts nothing): GET /v1/homes
# through the gateway against the same request straight to the MODE emulator, same tool, same
# connections, one run each, back to back; then the throughput ratio and the p99 the gateway adds.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start

connections=${CONNECTIONS:-32}
duration=${DURATION:-10s}

sim_port=28290
gw_port=28280
start_mode_sim $sim_port MODESIM_THREADS=1
start_gateway $gw_port $sim_port MB_THREADS="${GATEWAY_THREADS:-1}"
wait_ready $gw_port
bench_login $gw_port
for name in Home Cabin Flat; do
    curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        -d "{\"name\":\"$name\"}" "http://127.0.0.1:$gw_port/v1/homes"
done
# The same user's MODE key and id, for the direct requests.
mode_user=$(curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$gw_port/v1/me" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["mode"]["userId"])')
mode_key=$(curl -fsS -H 'Authorization: ModeCloud sim-project-key' -d "projectId=1&userId=$mode_user" \
    "http://127.0.0.1:$sim_port/auth/user" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

load="$bin/bench/mb-load"
echo "== GET /homes straight to the MODE emulator ($connections connections, $duration)"
"$load" --url "http://127.0.0.1:$sim_port/homes?userId=$mode_user" -H "Authorization: ModeCloud $mode_key" \
    -c "$connections" -d "$duration" --label direct --json >"$work/direct.json"
echo "== GET /v1/homes through the gateway ($connections connections, $duration)"
"$load" --url "http://127.0.0.1:$gw_port/v1/homes" -H "Authorization: Bearer $token" \
    -c "$connections" -d "$duration" --label gateway --json >"$work/gateway.json"

# The latency the gateway adds, away from saturation: both at the same fixed rate (open loop).
rate=${RATE:-4000}
"$load" --url "http://127.0.0.1:$sim_port/homes?userId=$mode_user" -H "Authorization: ModeCloud $mode_key" \
    -c "$connections" --rate "$rate" -d "$duration" --label direct-rate --json >"$work/direct-rate.json"
"$load" --url "http://127.0.0.1:$gw_port/v1/homes" -H "Authorization: Bearer $token" \
    -c "$connections" --rate "$rate" -d "$duration" --label gateway-rate --json >"$work/gateway-rate.json"

python3 - "$work/direct.json" "$work/gateway.json" "$work/direct-rate.json" "$work/gateway-rate.json" "$rate" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
dr = json.load(open(sys.argv[3])); gr = json.load(open(sys.argv[4])); rate = sys.argv[5]
def row(name, r):
    l = r["latency_ms"]
    print(f"{name:8} {r['rps']:10.0f} req/s   p50 {l['p50']:.3f} ms   p99 {l['p99']:.3f} ms   "
          f"statuses {r['status']}")
row("direct", d); row("gateway", g)
ratio = g["rps"] / d["rps"]
added = g["latency_ms"]["p99"] - d["latency_ms"]["p99"]
print(f"saturated: gateway keeps {ratio * 100:.1f}% of the direct throughput (goal: at least 70%); "
      f"adds {added:.3f} ms at p99")
row("direct", dr); row("gateway", gr)
print(f"at {rate} req/s: the gateway adds {gr['latency_ms']['p50'] - dr['latency_ms']['p50']:.3f} ms at p50 and "
      f"{gr['latency_ms']['p99'] - dr['latency_ms']['p99']:.3f} ms at p99 (goal: under 1 ms)")
PY
