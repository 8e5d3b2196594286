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
sim_pid=${pids[-1]}
start_gateway $gw_port $sim_port MB_THREADS="${GATEWAY_THREADS:-1}"
gw_pid=${pids[-1]}
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
# CPU time (user + system, clock ticks) of a process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
"$load" --url "http://127.0.0.1:$gw_port/v1/homes" -H "Authorization: Bearer $token" \
    -c "$connections" -d "$duration" --warmup 2s --label gateway --json >"$work/gateway.json" &
load_pid=$!
sleep 2 # the warm-up, which the figures leave out
gw0=$(cpu_ticks "$gw_pid") sim0=$(cpu_ticks "$sim_pid") t0=$(date +%s.%N)
wait "$load_pid"
gw1=$(cpu_ticks "$gw_pid") sim1=$(cpu_ticks "$sim_pid") t1=$(date +%s.%N)
echo "$gw0 $gw1 $sim0 $sim1 $t0 $t1 $(getconf CLK_TCK) $(nproc)" >"$work/cpu.txt"

# The latency the gateway adds, away from saturation: both at the same fixed rate (open loop).
rate=${RATE:-4000}
"$load" --url "http://127.0.0.1:$sim_port/homes?userId=$mode_user" -H "Authorization: ModeCloud $mode_key" \
    -c "$connections" --rate "$rate" -d "$duration" --label direct-rate --json >"$work/direct-rate.json"
"$load" --url "http://127.0.0.1:$gw_port/v1/homes" -H "Authorization: Bearer $token" \
    -c "$connections" --rate "$rate" -d "$duration" --label gateway-rate --json >"$work/gateway-rate.json"

python3 - "$work/direct.json" "$work/gateway.json" "$work/direct-rate.json" "$work/gateway-rate.json" "$rate" \
    "$work/cpu.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); g = json.load(open(sys.argv[2]))
dr = json.load(open(sys.argv[3])); gr = json.load(open(sys.argv[4])); rate = sys.argv[5]
gw0, gw1, sim0, sim1, t0, t1, tck, cores = (float(x) for x in open(sys.argv[6]).read().split())
def row(name, r):
    l = r["latency_ms"]
    print(f"{name:8} {r['rps']:10.0f} req/s   p50 {l['p50']:.3f} ms   p99 {l['p99']:.3f} ms   "
          f"statuses {r['status']}")
row("direct", d); row("gateway", g)
ratio = g["rps"] / d["rps"]
added = g["latency_ms"]["p99"] - d["latency_ms"]["p99"]
print(f"saturated: gateway keeps {ratio * 100:.1f}% of the direct throughput (goal: at least 70%); "
      f"adds {added:.3f} ms at p99")
# Where the CPU goes while saturated: the gateway and the emulator share the machine with mb-load.
served = g["rps"] * (t1 - t0)
gw_us = (gw1 - gw0) / tck / served * 1e6
sim_us = (sim1 - sim0) / tck / served * 1e6
direct_us = 1e6 / d["rps"]
print(f"CPU per request while saturated: gateway {gw_us:.1f} us, emulator {sim_us:.1f} us "
      f"(direct, the emulator's one thread serves a request every {direct_us:.1f} us); "
      f"the gateway used {(gw1 - gw0) / tck / (t1 - t0):.2f} of {cores:.0f} cores")
ceiling = cores / ((gw_us + sim_us) / 1e6)
print(f"so with the emulator on the same {cores:.0f} cores, the gateway path cannot pass {ceiling:.0f} req/s "
      f"({ceiling / d['rps'] * 100:.0f}% of direct) even before mb-load takes its share")
row("direct", dr); row("gateway", gr)
print(f"at {rate} req/s: the gateway adds {gr['latency_ms']['p50'] - dr['latency_ms']['p50']:.3f} ms at p50 and "
      f"{gr['latency_ms']['p99'] - dr['latency_ms']['p99']:.3f} ms at p99 (goal: under 1 ms)")
PY
