# shellcheck shell=bash disable=SC2154 # paths, ports and settings come from stack.sh, which sources this file
# Sourced by scripts/stack.sh, not run: starting and stopping each piece of the stack (PostgreSQL, Redis,
# the SMTP sink), on the paths, ports and secrets that stack.sh has loaded and with its helpers for
# waiting (die, say, as_pg, wait_until, pid_alive, stop_pidfile, ...).

# ---------------------------------------------------------------- PostgreSQL

pg_running() { [ -f "$pg_data/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; }

pg_init() {
    [ -f "$pg_data/PG_VERSION" ] && return 0
    say "initialising PostgreSQL cluster in $pg_data"
    mkdir -p "$pg_dir"
    rm -rf "$pg_data" # a half-made cluster from an interrupted initdb
    chmod 700 "$pg_dir"
    if is_root; then
        chown postgres:postgres "$pg_dir"
    fi
    # Trust only on the Unix socket, which lives in a 0700 directory; TCP needs a password (scram).
    # --no-sync only skips initdb's own flush: the cluster is throwaway, the server keeps fsync on.
    if ! as_pg "$pg_bin/initdb" -D "$pg_data" -U "$admin_role" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync --no-instructions \
        >"$pg_dir/initdb.log" 2>&1; then
        show_log "$pg_dir/initdb.log"
        die "PostgreSQL initdb failed"
    fi
    cat >>"$pg_data/postgresql.conf" <<EOF

# ---- modebridge test stack (scripts/stack.sh) ----
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$pg_dir'
max_connections = 200
# Benchmarks measure durable commits: keep the server's flushes.
fsync = on
synchronous_commit = on
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# Admin password, app role and app database; idempotent, so it runs on every start.
pg_provision() {
    local out
    if ! out=$("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir" -p "$PG_PORT" -U "$admin_role" \
        -d postgres 2>&1 <<EOF
ALTER ROLE $admin_role WITH PASSWORD '$PG_ADMIN_PASSWORD';
SELECT 'CREATE ROLE $app_role LOGIN'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$app_role') \gexec
ALTER ROLE $app_role WITH LOGIN PASSWORD '$PG_APP_PASSWORD';
SELECT 'CREATE DATABASE $app_db OWNER $app_role'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$app_db') \gexec
EOF
    ); then
        echo "$out" >&2
        die "PostgreSQL: creating the roles and database failed"
    fi
}

pg_accepts() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1; }

start_pg() {
    pg_init
    if pg_running; then
        say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    else
        require_port_free "$PG_PORT" PostgreSQL
        if ! without_extra_fds as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_log" -w -t "$wait_seconds" \
            -s start; then
            show_log "$pg_log"
            die "PostgreSQL did not start on 127.0.0.1:$PG_PORT within ${wait_seconds}s"
        fi
        if ! wait_until pg_accepts; then
            show_log "$pg_log"
            die "PostgreSQL does not accept connections on 127.0.0.1:$PG_PORT"
        fi
        say "PostgreSQL started on 127.0.0.1:$PG_PORT"
    fi
    pg_provision
}

stop_pg() {
    if ! pg_running; then
        say "PostgreSQL not running"
        return 0
    fi
    # fast: disconnect clients and stop now (what an outage looks like to the services).
    if ! as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w -t "$wait_seconds" -s stop; then
        echo "stack: PostgreSQL fast stop timed out; stopping in immediate mode" >&2
        as_pg "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t "$wait_seconds" -s stop ||
            die "PostgreSQL does not stop"
    fi
    say "PostgreSQL stopped"
}

# The server and every backend, as one (fault tests): what a crash or a frozen machine does to it.
pg_pids() {
    local pid p
    pid=$(head -n 1 "$pg_data/postmaster.pid" 2>/dev/null) || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    echo "$pid"
    local stat rest
    for stat in /proc/[0-9]*/stat; do
        read -r rest <"$stat" 2>/dev/null || continue
        rest=${rest##*) } # after "pid (comm) ": state ppid ...
        set -- $rest
        [ "$2" = "$pid" ] && { p=${stat#/proc/}; echo "${p%/stat}"; }
    done
    return 0
}
kill_pg() {
    local pids
    pids=$(pg_pids)
    [ -n "$pids" ] || { say "PostgreSQL not running"; return 0; }
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    wait_until pids_gone $pids || die "PostgreSQL processes survive SIGKILL"
    say "PostgreSQL killed"
}
pids_gone() {
    local p
    for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done
    return 0
}
signal_pg() {
    local pids
    pids=$(pg_pids)
    [ -n "$pids" ] || die "PostgreSQL not running"
    # shellcheck disable=SC2086
    kill "-$1" $pids
}

# ---------------------------------------------------------------- Redis

redis_running() { pid_alive "$redis_pidfile" redis-server; }
redis_accepts() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

start_redis() {
    if redis_running; then
        say "Redis already running on 127.0.0.1:$REDIS_PORT"
        return 0
    fi
    require_port_free "$REDIS_PORT" Redis
    mkdir -p "$redis_dir"
    rm -f "$redis_pidfile"
    # No persistence: a restart (outage test) comes back empty, like a replaced cache node.
    if ! without_extra_fds redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize yes --pidfile "$redis_pidfile" --logfile "$redis_log" --dir "$redis_dir" \
        </dev/null >/dev/null 2>"$redis_dir/start.err"; then
        show_log "$redis_dir/start.err"
        die "Redis failed to start on 127.0.0.1:$REDIS_PORT"
    fi
    if ! wait_until redis_accepts; then
        show_log "$redis_log"
        die "Redis does not answer PING on 127.0.0.1:$REDIS_PORT within ${wait_seconds}s"
    fi
    say "Redis started on 127.0.0.1:$REDIS_PORT"
}

stop_redis() { stop_pidfile "$redis_pidfile" redis-server Redis; }

# ---------------------------------------------------------------- SMTP sink

smtp_running() { pid_alive "$smtp_pidfile" smtp_sink.py; }
smtp_ready() { smtp_running && tcp_open "$SMTP_PORT"; }

start_smtp() {
    if smtp_running; then
        say "SMTP sink already running on 127.0.0.1:$SMTP_PORT"
        return 0
    fi
    require_port_free "$SMTP_PORT" "SMTP sink"
    mkdir -p "$smtp_dir" "$mail_dir"
    rm -f "$smtp_pidfile"
    # setsid: its own session, so the terminal's or a test runner's signals to our group miss it.
    without_extra_fds setsid -f "$python" "$script_dir/smtp_sink.py" --port "$SMTP_PORT" \
        --maildir "$mail_dir" --pidfile "$smtp_pidfile" </dev/null >>"$smtp_log" 2>&1
    if ! wait_until smtp_ready; then
        show_log "$smtp_log"
        die "SMTP sink does not accept connections on 127.0.0.1:$SMTP_PORT within ${wait_seconds}s"
    fi
    say "SMTP sink started on 127.0.0.1:$SMTP_PORT"
}

stop_smtp() { stop_pidfile "$smtp_pidfile" smtp_sink.py "SMTP sink"; }
