#!/usr/bin/env bash
# Benchmark of the gateway's live stream (prints figures; asserts nothing): USERS members of one home,
# STREAMS WebSockets on GET /v1/events shared among them, and signed events sent into webhook-ingest at
# RATE per second for DURATION seconds. Each event carries its send time; mb-live reports how many
# deliveries arrived and the send → client latency (webhook-ingest, PostgreSQL, Redis, gateway, client).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start

users=${USERS:-20}
streams=${STREAMS:-200}
rate=${RATE:-200}
duration=${DURATION:-10}

sim_port=28490
gw_port=28480
ingest_port=28481
hook_url=https://hooks.example.test/v1/mode/events
hook_key=$(openssl rand -hex 16)
start_mode_sim $sim_port
start_gateway $gw_port $sim_port
run_bg ingest env MB_LISTEN="127.0.0.1:$ingest_port" MB_WEBHOOK_URL="$hook_url" MB_WEBHOOK_KEY="$hook_key" \
    MB_LOG_LEVEL=warn "$bin/services/webhook-ingest/modebridge-ingest"
wait_ready $gw_port
wait_ready $ingest_port

# The owner and a home; the members registered, verified in the database, added, and logged in.
bench_login $gw_port
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

echo "== $streams live streams of $users members of one home; $rate events/s for ${duration}s into webhook-ingest"
"$bin/bench/mb-live" --gateway-port $gw_port --ingest-port $ingest_port --tokens "$work/tokens" --home "$home" \
    --sign-key "$hook_key" --sign-url "$hook_url" --streams "$streams" --rate "$rate" --duration "$duration"
echo "gateway RSS after the run: $(awk '/VmRSS/ {print $2, $3}' "/proc/${pids[1]}/status")"
