#!/usr/bin/env bash
# Throwaway PostgreSQL 15, Redis 7 and SMTP sink on 127.0.0.1, for the local run and the tests.
#
#   scripts/stack.sh start <dir>    set up <dir> on first use, start all three, wait until they accept
#                                   connections (idempotent: pieces already running are left alone)
#   scripts/stack.sh stop <dir>     stop all three (idempotent); <dir> keeps its data: rm -rf it to discard
#   scripts/stack.sh env <dir>      print `export VAR='value'` lines: eval "$(scripts/stack.sh env <dir>)"
#   scripts/stack.sh status <dir>   print which pieces run
#   scripts/stack.sh stop-pg|start-pg|stop-redis|start-redis|stop-smtp|start-smtp <dir>
#                                   one piece on an already set-up <dir> (outage tests); restarting reuses
#                                   the same data directory and ports. Redis keeps no data across a restart.
#   scripts/stack.sh kill-pg|freeze-pg|thaw-pg <dir>
#                                   SIGKILL / SIGSTOP / SIGCONT to PostgreSQL's server and every backend
#                                   (fault tests); start-pg after kill-pg runs its crash recovery.
#
# Ports are free loopback ports picked at the first start (or PG_PORT / REDIS_PORT / SMTP_PORT from the
# environment), recorded in <dir>/ports.env and reused afterwards. Generated passwords are kept in
# <dir>/secrets.env (mode 600). STACK_WAIT_SECONDS (default 60) bounds every wait.
# PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user, so <dir> must be
# reachable by that user (a directory under /tmp is). Needs the packages of scripts/install-deps.sh.
set -euo pipefail

readonly pg_bin=/usr/lib/postgresql/15/bin
readonly python=/usr/bin/python3
script_path=$(readlink -f "${BASH_SOURCE[0]}")
script_dir=$(dirname "$script_path")
readonly script_path script_dir
readonly wait_seconds=${STACK_WAIT_SECONDS:-60}
readonly app_role=modebridge
readonly app_db=modebridge
readonly admin_role=postgres

usage() {
    cat >&2 <<EOF
usage: $0 {start|stop|env|status|start-pg|stop-pg|kill-pg|freeze-pg|thaw-pg|start-redis|stop-redis|start-smtp|stop-smtp} <dir>
EOF
    exit 2
}

die() {
    echo "stack: error: $*" >&2
    exit 1
}

say() { echo "stack: $*"; }

# Prints the last lines of a log file to stderr, to explain a failure.
show_log() {
    if [ -f "$1" ]; then
        echo "---- last lines of $1 ----" >&2
        tail -n 20 "$1" >&2 || true
        echo "----" >&2
    fi
}

# ---------------------------------------------------------------- paths, ports, secrets

set_paths() {
    dir=$(readlink -m "$1")
    # The path ends up in postgresql.conf, URLs and `export` lines, and the PostgreSQL socket path must
    # stay under the 107-byte sun_path limit: keep it short and plain rather than quoting everywhere.
    if [[ ! "$dir" =~ ^/[A-Za-z0-9._/-]+$ ]]; then
        die "stack dir '$dir' may only contain letters, digits and . _ / -"
    fi
    if [ "${#dir}" -gt 80 ]; then
        die "stack dir '$dir' is too long (max 80 characters; the PostgreSQL socket path must fit)"
    fi
    ports_file=$dir/ports.env
    secrets_file=$dir/secrets.env
    pg_dir=$dir/postgres
    pg_data=$pg_dir/data
    pg_log=$pg_dir/postgres.log
    redis_dir=$dir/redis
    redis_pidfile=$redis_dir/redis.pid
    redis_log=$redis_dir/redis.log
    smtp_dir=$dir/smtp
    smtp_pidfile=$smtp_dir/smtp.pid
    smtp_log=$smtp_dir/smtp.log
    mail_dir=$dir/mail
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a PostgreSQL server tool as the user that owns the cluster. From `/`, because the caller's
# working directory may be closed to the postgres user.
as_pg() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Creates <dir> (first start) and checks the postgres user can reach it.
make_dir() {
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        chmod 755 "$dir"
    fi
    if is_root; then
        id -u postgres >/dev/null 2>&1 ||
            die "running as root needs the 'postgres' system user (installed by the postgresql package)"
        if ! runuser -u postgres -- test -x "$dir"; then
            chmod a+x "$dir" # e.g. a `mktemp -d` directory (0700): search permission is all it needs
            runuser -u postgres -- test -x "$dir" ||
                die "the postgres user cannot reach $dir; use a directory under /tmp (or chmod its parents)"
        fi
    fi
}

require_setup() {
    if [ ! -f "$ports_file" ] || [ ! -f "$secrets_file" ]; then
        die "$dir is not a set-up stack directory (no ports.env/secrets.env); run: $0 start $dir"
    fi
}

# Picks distinct free ports on 127.0.0.1 for every argument that is 0 (others are kept). Ports come from
# 20000-32000, below Linux's ephemeral range, so client connections of the tests cannot take them.
pick_ports() {
    "$python" - "$@" <<'PY'
import random, socket, sys
wanted = [int(a) for a in sys.argv[1:]]
taken = {p for p in wanted if p}
out = []
for w in wanted:
    if w:
        out.append(w)
        continue
    for _ in range(2000):
        p = random.randint(20000, 32000)
        if p in taken:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            s.close()
        taken.add(p)
        out.append(p)
        break
    else:
        sys.exit("stack: error: found no free port on 127.0.0.1")
print(*out)
PY
}

check_port_value() {
    if [[ ! "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then
        die "$1='$2' in $ports_file is not a valid port"
    fi
}

load_ports() {
    # shellcheck source=/dev/null
    . "$ports_file"
    for v in PG_PORT REDIS_PORT SMTP_PORT; do
        check_port_value "$v" "${!v:-}"
    done
}

# First start: ports from the environment or picked; afterwards: the recorded ones.
load_or_pick_ports() {
    if [ -f "$ports_file" ]; then
        load_ports
        return
    fi
    local want_pg=${PG_PORT:-0} want_redis=${REDIS_PORT:-0} want_smtp=${SMTP_PORT:-0}
    for v in want_pg want_redis want_smtp; do
        if [[ ! "${!v}" =~ ^[0-9]+$ ]] || [ "${!v}" -gt 65535 ]; then
            die "${v#want_} port '${!v}' from the environment (PG_PORT/REDIS_PORT/SMTP_PORT) is not a valid port"
        fi
    done
    local picked
    picked=$(pick_ports "$want_pg" "$want_redis" "$want_smtp")
    read -r PG_PORT REDIS_PORT SMTP_PORT <<<"$picked"
    printf 'PG_PORT=%s\nREDIS_PORT=%s\nSMTP_PORT=%s\n' "$PG_PORT" "$REDIS_PORT" "$SMTP_PORT" >"$ports_file.tmp"
    mv "$ports_file.tmp" "$ports_file"
}

random_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

load_or_make_secrets() {
    if [ ! -f "$secrets_file" ]; then
        (
            umask 077
            printf 'PG_ADMIN_PASSWORD=%s\nPG_APP_PASSWORD=%s\n' "$(random_hex)" "$(random_hex)" \
                >"$secrets_file.tmp"
        )
        mv "$secrets_file.tmp" "$secrets_file"
    fi
    # shellcheck source=/dev/null
    . "$secrets_file"
    [[ "${PG_ADMIN_PASSWORD:-}" =~ ^[0-9a-f]+$ && "${PG_APP_PASSWORD:-}" =~ ^[0-9a-f]+$ ]] ||
        die "$secrets_file is damaged; stop the stack and remove $dir"
}

# Serialises invocations on one <dir> (tests may call start-x/stop-x while another runs). Daemons are
# started through without_extra_fds, or they would hold the lock for their whole life.
lock_dir() {
    exec 9>"$dir/.lock"
    flock -w "$wait_seconds" 9 || die "another stack.sh holds $dir/.lock for more than ${wait_seconds}s"
}

# ---------------------------------------------------------------- helpers for waiting

# Runs a command with no file descriptor beyond stdin/stdout/stderr: a daemon it starts would otherwise
# keep whatever the caller had open (our lock, a test runner's pipes) for its whole life.
without_extra_fds() {
    (
        local fd
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then
                exec {fd}>&-
            fi
        done
        "$@"
    )
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Something else already listening on a recorded port would make the start fail only after a timeout.
require_port_free() {
    if tcp_open "$1"; then
        die "$2 cannot start: another program already listens on 127.0.0.1:$1 (free it, or remove $dir to pick new ports)"
    fi
}

# wait_until <command...>: polls every 0.1 s, at most $wait_seconds.
wait_until() {
    local deadline=$((SECONDS + wait_seconds))
    until "$@"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.1
    done
}

# pid_alive <pidfile> <cmdline substring>: the process of the pidfile runs and is the expected program
# (a stale pidfile may name a recycled pid).
pid_alive() {
    local pid
    [ -f "$1" ] || return 1
    pid=$(tr -dc '0-9' <"$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2"
}

# stop_pidfile <pidfile> <cmdline substring> <name>: SIGTERM, bounded wait, then SIGKILL.
stop_pidfile() {
    local pid
    if ! pid_alive "$1" "$2"; then
        rm -f "$1"
        say "$3 not running"
        return 0
    fi
    pid=$(tr -dc '0-9' <"$1")
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until pid_gone "$pid"; then
        echo "stack: $3 (pid $pid) ignored SIGTERM for ${wait_seconds}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_until pid_gone "$pid" || die "$3 (pid $pid) does not die"
    fi
    rm -f "$1"
    say "$3 stopped"
}

pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL, Redis, SMTP sink

# start_pg, stop_pg, start_redis, stop_redis, start_smtp, stop_smtp and what they check.
# shellcheck source=scripts/stack-services.sh
. "$script_dir/stack-services.sh"

# ---------------------------------------------------------------- commands

print_env() {
    local pg_host=127.0.0.1:$PG_PORT
    cat <<EOF
export MB_TEST_PG_ADMIN_URL='postgresql://$admin_role:$PG_ADMIN_PASSWORD@$pg_host/postgres'
export MB_DATABASE_URL='postgresql://$app_role:$PG_APP_PASSWORD@$pg_host/$app_db'
export MB_REDIS_URL='redis://127.0.0.1:$REDIS_PORT'
export MB_TEST_SMTP_PORT='$SMTP_PORT'
export MB_SMTP_URL='smtp://127.0.0.1:$SMTP_PORT'
export MB_TEST_MAIL_DIR='$mail_dir'
export MB_TEST_STACK_DIR='$dir'
export MB_TEST_STACK_SCRIPT='$script_path'
EOF
}

print_status() {
    local pg=stopped redis=stopped smtp=stopped
    if pg_running; then pg=running; fi
    if redis_running; then redis=running; fi
    if smtp_running; then smtp=running; fi
    echo "postgres $pg 127.0.0.1:$PG_PORT"
    echo "redis $redis 127.0.0.1:$REDIS_PORT"
    echo "smtp $smtp 127.0.0.1:$SMTP_PORT"
}

main() {
    [ $# -eq 2 ] || usage
    local cmd=$1
    set_paths "$2"
    case "$cmd" in
    start)
        make_dir
        lock_dir
        load_or_pick_ports
        load_or_make_secrets
        start_pg
        start_redis
        start_smtp
        say "ready in $dir; environment: eval \"\$($script_path env $dir)\""
        ;;
    stop)
        if [ ! -f "$ports_file" ]; then
            say "nothing to stop in $dir"
            return 0
        fi
        lock_dir
        load_ports
        stop_smtp
        stop_redis
        stop_pg
        ;;
    env)
        require_setup
        load_ports
        load_or_make_secrets
        print_env
        ;;
    status)
        require_setup
        load_ports
        print_status
        ;;
    start-pg | stop-pg | kill-pg | freeze-pg | thaw-pg | start-redis | stop-redis | start-smtp | stop-smtp)
        require_setup
        lock_dir
        load_ports
        load_or_make_secrets
        case "$cmd" in
        start-pg) start_pg ;;
        stop-pg) stop_pg ;;
        kill-pg) kill_pg ;;
        freeze-pg) signal_pg STOP ;;
        thaw-pg) signal_pg CONT ;;
        start-redis) start_redis ;;
        stop-redis) stop_redis ;;
        start-smtp) start_smtp ;;
        stop-smtp) stop_smtp ;;
        esac
        ;;
    *) usage ;;
    esac
}

main "$@"
