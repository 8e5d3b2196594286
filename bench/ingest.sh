#!/usr/bin/env bash
# Benchmark of webhook-ingest (prints figures; asserts nothing): signed events over many connections,
# events per second acknowledged (each durably committed before its 204) and p50/p99 acknowledge
# latency; then what PostgreSQL alone allows on the same machine: commits per second of one-row
# insert transactions (pgbench), with one client (one fsync after another) and with many.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_start

connections=${CONNECTIONS:-64}
duration=${DURATION:-10s}

port=28381
url=https://hooks.example.test/v1/mode/events
key=$(openssl rand -hex 16)
run_bg ingest env MB_LISTEN="127.0.0.1:$port" MB_WEBHOOK_URL="$url" MB_WEBHOOK_KEY="$key" MB_LOG_LEVEL=warn MB_MAX_CONNECTIONS_PER_ADDRESS=0 \
    "$bin/services/webhook-ingest/modebridge-ingest"
wait_ready $port

cat >"$work/event.json" <<'JSON'
{"homeId":173,"timestamp":"2026-11-25T10:00:00.000Z","eventType":"temperature","eventData":{"celsius":21.5},"originDeviceId":260,"originDeviceClass":"thermostat","benchSeq":0}
JSON
echo "== signed events into webhook-ingest ($connections connections, $duration; every 204 is a committed event)"
"$bin/bench/mb-load" --url "http://127.0.0.1:$port/v1/mode/events" -X POST --body-file "$work/event.json" \
    --sign-mode-webhook "$key" --sign-url "$url" --unique-body-field benchSeq \
    -c "$connections" -d "$duration" --label ingest
psql -qtA "$MB_DATABASE_URL" -c "SELECT 'events stored: ' || count(*) || ', in ' || count(DISTINCT received_at) || ' commits (average batch ' || round(count(*)::numeric / greatest(count(DISTINCT received_at), 1), 1) || ')' FROM events"

echo
echo "== PostgreSQL alone: one-row insert transactions per second (pgbench, $duration)"
psql -q "$MB_DATABASE_URL" -c "CREATE TABLE bench_commit (id bigserial PRIMARY KEY, body text NOT NULL)"
echo "INSERT INTO bench_commit (body) VALUES (repeat('x', 200));" >"$work/insert.sql"
secs=${duration%s}
for clients in 1 "$connections"; do
    tps=$(pgbench -n -f "$work/insert.sql" -c "$clients" -j 2 -T "$secs" "$MB_DATABASE_URL" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    echo "  $clients client(s): $tps commits/s"
done
