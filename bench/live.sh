#!/usr/bin/env bash
# Benchmark of the live stream's fan-out (prints figures; asserts nothing): the gateway's GET /v1/events
# against the baseline relay of bench/live/relay (Node, ws + ioredis: Redis channel → WebSockets, nothing
# else), both fed by the same webhook-ingest, PostgreSQL and Redis and measured by the same client
# (mb-live). All streams follow ONE home; each event sent into webhook-ingest carries its send time.
#
# Sweep: for every STREAMS_LIST × RATES cell (RATES are deliveries/s = streams × events/s), each target in
# turn, freshly started, gets the streams and DURATION seconds of events, then at most DRAIN seconds for
# the last deliveries. Then an idle row (IDLE_STREAMS streams, nothing sent: RSS per stream) and a
# "listeners" row (LISTENERS streams, LISTENER_RATE events/s). One table at the end.
#
# Latency is measured from the webhook's send (SOURCE=webhook, the default: the whole path, including the
# ingest's commit to PostgreSQL) or from the publish into Redis (SOURCE=publish: the fan-out alone, events
# published as webhook-ingest would publish them).
#
# Knobs (environment): SOURCE, RATES, STREAMS_LIST, DURATION, DRAIN, TARGETS ("gateway relay"), USERS (members
# the gateway's streams are spread over), IDLE_STREAMS and LISTENERS (0 skips the row), LISTENER_RATE,
# CLIENT_THREADS (mb-live's io_contexts), GATEWAY_ENV (extra VAR=value for the gateway), OUT (a file to
# keep each run's JSON line in). RATES=none skips the sweep (only the idle and listeners rows). Example
# of a quick subset:
#   RATES="10000 50000" STREAMS_LIST="1000" DURATION=5 IDLE_STREAMS=0 LISTENERS=0 ./bench/live.sh
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rates=${RATES:-10000 50000 100000 200000 400000}
streams_list=${STREAMS_LIST:-1000 10000 20000}
duration=${DURATION:-10}
drain=${DRAIN:-5}
targets=${TARGETS:-gateway relay}
users=${USERS:-50}
idle_streams=${IDLE_STREAMS:-10000}
listeners=${LISTENERS:-5000}
listener_rate=${LISTENER_RATE:-2}
client_threads=${CLIENT_THREADS:-1}
source=${SOURCE:-webhook}
case $source in webhook | publish) ;; *) echo "SOURCE: webhook or publish" >&2; exit 2 ;; esac
read -r -a gateway_env <<<"${GATEWAY_ENV:-}"
relay_dir=$root/bench/live/relay

# Every stream is a file descriptor in mb-live and in the target.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
most=$idle_streams
for n in $streams_list $listeners; do [ "$n" -gt "$most" ] && most=$n; done
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((most + 500)) ]; then
    echo "note: the open-file limit is $(ulimit -n) (raising it to 200000 was refused): runs of more than" \
        "about $(($(ulimit -n) - 500)) streams will not open them all" >&2
fi

# Node.js and the relay's packages (pinned in package-lock.json).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    if command -v node >/dev/null; then want=(npm); else want=(nodejs npm); fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi
if [ ! -f "$relay_dir/node_modules/.package-lock.json" ] ||
    [ "$relay_dir/package.json" -nt "$relay_dir/node_modules/.package-lock.json" ] ||
    { [ -f "$relay_dir/package-lock.json" ] &&
        [ "$relay_dir/package-lock.json" -nt "$relay_dir/node_modules/.package-lock.json" ]; }; then
    if [ -f "$relay_dir/package-lock.json" ]; then
        (cd "$relay_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    else
        (cd "$relay_dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    fi
fi

bench_start

# A free port on 127.0.0.1 below the ephemeral range (a fresh one for each target started).
free_port() {
    python3 -c '
import random, socket
for _ in range(1000):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

# stop_started <pid>: SIGTERM, then SIGKILL after 15 s; forgets the pid (lib.sh kills the rest on exit).
stop_started() {
    local pid=$1 keep=() p
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -1; }

sim_port=$(free_port)
ingest_port=$(free_port)
while [ "$ingest_port" = "$sim_port" ]; do ingest_port=$(free_port); done
hook_url=https://hooks.example.test/v1/mode/events
hook_key=$(openssl rand -hex 16)
secret=$(openssl rand -base64 32) # the same for every gateway started: it encrypts the MODE user keys
gateway_caps=(MB_SECRET_KEY="$secret" MB_MAX_CONNECTIONS=100000 MB_LIVE_STREAMS_PER_USER=100000
    MB_CONNECTION_RATE=100000 MB_LIVE_BACKLOG=100000 MB_RATE_REGISTRATIONS_PER_IP=100000/1h
    MB_SHUTDOWN_GRACE=2s "${gateway_env[@]}")
start_mode_sim "$sim_port"
run_bg ingest env MB_LISTEN="127.0.0.1:$ingest_port" MB_WEBHOOK_URL="$hook_url" MB_WEBHOOK_KEY="$hook_key" \
    MB_LOG_LEVEL=warn MB_MAX_CONNECTIONS_PER_ADDRESS=0 "$bin/services/webhook-ingest/modebridge-ingest"
wait_ready "$ingest_port"

# target_pid/target_port: the target started last. Each run gets a fresh process on a fresh port, so
# its RSS before the streams is its own baseline and no run inherits the last one's backlog.
start_target() {
    target_port=$(free_port)
    case $1 in
        gateway)
            start_gateway "$target_port" "$sim_port" "${gateway_caps[@]}"
            target_pid=${pids[-1]}
            wait_ready "$target_port"
            ;;
        relay)
            run_bg relay env RELAY_PORT="$target_port" MB_REDIS_URL="$MB_REDIS_URL" node "$relay_dir/relay.js"
            target_pid=${pids[-1]}
            for _ in $(seq 1 100); do
                curl -fsS -o /dev/null "http://127.0.0.1:$target_port/healthz" 2>/dev/null && break
                sleep 0.1
            done
            ;;
    esac
}

stop_target() {
    if ! kill -0 "$target_pid" 2>/dev/null; then
        echo "note: the $1 had exited before the end of the run; last lines of its log:" >&2
        tail -n 5 "$work/$1.log" >&2 || true
    fi
    stop_started "$target_pid"
}

# The owner and a home; USERS-1 members registered, verified in the database, added, and logged in.
start_target gateway
gw_port=$target_port
bench_login "$gw_port"
owner=$token
home=$(curl -fsS -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' -d '{"name":"Shared"}' \
    "http://127.0.0.1:$gw_port/v1/homes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
password='correct horse battery staple'
for i in $(seq 2 "$users"); do
    curl -fsS -o /dev/null -H 'Content-Type: application/json' \
        -d "{\"email\":\"member$i@example.com\",\"password\":\"$password\",\"name\":\"Member $i\"}" \
        "http://127.0.0.1:$gw_port/v1/auth/register"
done
psql -q "$MB_DATABASE_URL" -c "UPDATE users SET email_verified_at = now()"
echo "$owner" >"$work/tokens"
for i in $(seq 2 "$users"); do
    curl -fsS -o /dev/null -H "Authorization: Bearer $owner" -H 'Content-Type: application/json' \
        -d "{\"email\":\"member$i@example.com\"}" "http://127.0.0.1:$gw_port/v1/homes/$home/members"
    curl -fsS -H 'Content-Type: application/json' -d "{\"email\":\"member$i@example.com\",\"password\":\"$password\"}" \
        "http://127.0.0.1:$gw_port/v1/auth/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' >>"$work/tokens"
done
stop_target gateway

results=$work/results.jsonl
: >"$results"

# client_args <target>: how mb-live reaches that target.
client_args() {
    case $1 in
        gateway) echo --target gateway --gateway-port "$target_port" --tokens "$work/tokens" ;;
        relay) echo --target relay --relay-port "$target_port" ;;
    esac
}

# source_args: where mb-live sends the events. webhook: signed webhooks into webhook-ingest (stored, then
# published); publish: straight into Redis as webhook-ingest publishes them, from a seq above every stored
# one (the fan-out alone: publish → frame).
source_args() {
    case $source in
        webhook) echo --ingest-port "$ingest_port" --sign-key "$hook_key" --sign-url "$hook_url" ;;
        publish)
            echo --redis-url "$MB_REDIS_URL" --first-seq \
                "$(psql -qtA "$MB_DATABASE_URL" -c "SELECT coalesce(max(seq), 0) + 1 FROM events")"
            ;;
    esac
}

# run_cell <row label> <target> <streams> <events/s>: one measured run, its JSON line kept in $results.
run_cell() {
    local row=$1 target=$2 streams=$3 events=$4 out
    start_target "$target"
    # shellcheck disable=SC2046 # client_args is meant to split
    out=$("$bin/bench/mb-live" $(client_args "$target") --home "$home" --streams "$streams" \
        --threads "$client_threads" $(source_args) \
        --rate "$events" --duration "$duration" --drain "$drain" --watch-pid "$target_pid" --json) || true
    stop_target "$target"
    if [ -z "$out" ]; then out='{}'; fi
    python3 - "$row" "$target" "$streams" "$events" "$out" >>"$results" <<'PY'
import json, sys
row, target, streams, events, out = sys.argv[1:]
r = json.loads(out)
r.update(row=row, target=target, streams=int(streams), events_per_s_asked=float(events))
print(json.dumps(r))
PY
    python3 - "$(tail -n 1 "$results")" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
lat = r.get("latency_ms", {})
print(f"  {r['row']:<10} {r['target']:<7} {r.get('streams_open', 0)}/{r['streams']} streams, "
      f"{r.get('deliveries', 0)} of {r.get('deliveries_expected', 0)} deliveries, "
      f"{r.get('deliveries_per_s', 0):.0f}/s held, p99 {lat.get('p99', 0):.1f} ms", flush=True)
PY
}

# idle_cell <target> <streams>: RSS of the target before any stream and with the streams open.
idle_cell() {
    local target=$1 streams=$2 before after open lp
    start_target "$target"
    before=$(rss_kb "$target_pid")
    # shellcheck disable=SC2046
    "$bin/bench/mb-live" $(client_args "$target") --home "$home" --streams "$streams" --threads "$client_threads" \
        --idle --hold 5 --json >"$work/idle.out" &
    lp=$!
    pids+=("$lp")
    for _ in $(seq 1 3000); do
        [ -s "$work/idle.out" ] && break
        kill -0 "$lp" 2>/dev/null || break
        sleep 0.1
    done
    sleep 1
    after=$(rss_kb "$target_pid")
    stop_started "$lp"
    stop_target "$target"
    open=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1] or "{}").get("streams_open", 0))' \
        "$(cat "$work/idle.out")")
    printf '{"row":"idle","target":"%s","streams":%s,"streams_open":%s,"rss_before_kb":%s,"rss_open_kb":%s}\n' \
        "$target" "$streams" "$open" "$before" "$after" >>"$results"
    echo "  idle       $target $open/$streams streams, RSS $before → $after kB"
}

echo "== live fan-out ($source → frame): one home, $users members; targets: $targets; ${duration}s of events per run," \
    "then at most ${drain}s for the last deliveries"
if [ "$rates" = none ]; then streams_list=""; fi
for streams in $streams_list; do
    for deliveries in $rates; do
        events=$(python3 -c "print(${deliveries} / ${streams})")
        for target in $targets; do
            run_cell sweep "$target" "$streams" "$events"
        done
    done
done
if [ "$idle_streams" -gt 0 ]; then
    for target in $targets; do idle_cell "$target" "$idle_streams"; done
fi
if [ "$listeners" -gt 0 ]; then
    for target in $targets; do run_cell listeners "$target" "$listeners" "$listener_rate"; done
fi

if [ -n "${OUT:-}" ]; then cp "$results" "$OUT"; fi
echo
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def num(x, fmt):
    return "-" if x is None or x < 0 else format(x, fmt)
head = ["row", "target", "streams", "open", "events/s", "target del/s", "held del/s", "missing",
        "p50 ms", "p99 ms", "max ms", "CPU %", "RSS/stream KB", "client CPU %"]
table = []
for r in rows:
    lat = r.get("latency_ms", {})
    is_idle = r["row"] == "idle"
    opened = r.get("streams_open", 0)
    rss = None
    if r.get("rss_open_kb", -1) >= 0 and r.get("rss_before_kb", -1) >= 0 and opened:
        rss = (r["rss_open_kb"] - r["rss_before_kb"]) / opened
    table.append([
        r["row"], r["target"], str(r["streams"]), str(opened),
        "-" if is_idle else num(r.get("events_per_s"), ".1f"),
        "-" if is_idle else num(r.get("target_deliveries_per_s"), ",.0f"),
        "-" if is_idle else num(r.get("deliveries_per_s"), ",.0f"),
        "-" if is_idle else num(r.get("deliveries_missing"), ",d"),
        "-" if is_idle else num(lat.get("p50"), ".1f"),
        "-" if is_idle else num(lat.get("p99"), ".1f"),
        "-" if is_idle else num(lat.get("max"), ".1f"),
        "-" if is_idle else num(r.get("cpu_percent"), ".0f"),
        num(rss, ".1f"),
        "-" if is_idle else num(r.get("client_cpu_percent"), ".0f"),
    ])
width = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(head)]
def line(cells):
    return "  ".join(c.ljust(width[i]) if i < 2 else c.rjust(width[i]) for i, c in enumerate(cells))
print(line(head))
for t in table:
    print(line(t))
PY
