#!/bin/bash
# `redis-server [options]`: in the foreground, as the redis user, working directory /data, listening on all
# addresses without protected mode (as the official image does when no configuration file is given).
set -euo pipefail
if [ "${1:-}" = redis-server ]; then
    shift
    if [ "$(id -u)" = 0 ]; then
        chown redis:redis /data
        exec setpriv --reuid=redis --regid=redis --init-groups redis-server --bind '*' --protected-mode no \
            --dir /data "$@"
    fi
    exec redis-server --bind '*' --protected-mode no --dir /data "$@"
fi
exec "$@"
