#!/usr/bin/env bash
# Runs the whole modebridge stack on this machine, on loopback: installs what is missing, builds, starts
# PostgreSQL, Redis, the SMTP sink, the MODE emulator, webhook-ingest and the gateway, prints the URLs,
# and stops everything on Ctrl-C. State lives in .run/ (delete it to start afresh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

./scripts/install-deps.sh
./scripts/build.sh

run_dir=$root/.run
mkdir -p "$run_dir"
# The stack's data directory must be reachable by the postgres user, so it lives under /tmp.
stack_dir=/tmp/modebridge-local-$(id -u)
./scripts/stack.sh start "$stack_dir"
eval "$(./scripts/stack.sh env "$stack_dir")"

# A secret key for local use only, generated once and kept with the local state.
if [ ! -s "$run_dir/secret_key" ]; then
    (umask 077 && openssl rand -base64 32 >"$run_dir/secret_key")
fi

gateway_port=${MB_GATEWAY_PORT:-8080}
ingest_port=${MB_INGEST_PORT:-8081}
sim_port=${MB_SIM_PORT:-8090}
webhook_key_file=$run_dir/webhook_key
if [ ! -s "$webhook_key_file" ]; then
    (umask 077 && openssl rand -hex 24 >"$webhook_key_file")
fi
webhook_key=$(cat "$webhook_key_file")
webhook_url=http://127.0.0.1:$ingest_port/v1/mode/events

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "run-local: stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    ./scripts/stack.sh stop "$stack_dir" >/dev/null 2>&1 || true
}
trap stop_all INT TERM EXIT

bin=${MB_BUILD_DIR:-$root/build}
MODESIM_LISTEN=127.0.0.1:$sim_port MODESIM_WEBHOOK_URL=$webhook_url MODESIM_WEBHOOK_KEY=$webhook_key \
    "$bin/tests/mode-sim/mode-sim" >"$run_dir/mode-sim.log" 2>&1 &
pids+=($!)

MB_LISTEN=127.0.0.1:$ingest_port MB_WEBHOOK_URL=$webhook_url MB_WEBHOOK_KEY=$webhook_key \
    "$bin/services/webhook-ingest/modebridge-ingest" >"$run_dir/ingest.log" 2>&1 &
pids+=($!)

MB_LISTEN=127.0.0.1:$gateway_port MB_MODE_API_URL=http://127.0.0.1:$sim_port MB_MODE_PROJECT_ID=1 \
    MB_MODE_PROJECT_KEY=sim-project-key MB_SECRET_KEY_FILE=$run_dir/secret_key \
    MB_PUBLIC_URL=http://127.0.0.1:$gateway_port \
    "$bin/services/gateway/modebridge-gateway" >"$run_dir/gateway.log" 2>&1 &
pids+=($!)

wait_ready() { # name url
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$2"; then return 0; fi
        sleep 0.1
    done
    echo "run-local: $1 did not become ready; see $run_dir/$1.log" >&2
    exit 1
}
wait_ready mode-sim "http://127.0.0.1:$sim_port/healthz"
wait_ready ingest "http://127.0.0.1:$ingest_port/readyz"
wait_ready gateway "http://127.0.0.1:$gateway_port/readyz"

cat <<TXT

modebridge is running (logs in $run_dir/):
  gateway         http://127.0.0.1:$gateway_port      (try: curl -H 'Content-Type: application/json' \\
                      -d '{"email":"ann@example.com","password":"correct horse battery","name":"Ann"}' \\
                      http://127.0.0.1:$gateway_port/v1/auth/register)
  webhook-ingest  http://127.0.0.1:$ingest_port      (MODE calls $webhook_url)
  MODE emulator   http://127.0.0.1:$sim_port      (control surface under /_sim/)
  mail sink       smtp://127.0.0.1:$MB_TEST_SMTP_PORT  (received mail: $MB_TEST_MAIL_DIR)
  PostgreSQL      $(echo "$MB_DATABASE_URL" | sed 's#//\([^:]*\):[^@]*@#//\1:***@#')
  Redis           $MB_REDIS_URL
Press Ctrl-C to stop.
TXT
wait -n "${pids[@]}" || true
echo "run-local: a service exited; see the logs in $run_dir/" >&2
