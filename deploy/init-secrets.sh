#!/usr/bin/env bash
# Creates the secret files docker-compose.yml hands to the services (compose secrets, mounted under
# /run/secrets/), each only when it does not exist yet, so running it again keeps what is there:
#   postgres_password   PostgreSQL password of the `modebridge` role (the bundled PostgreSQL)
#   database_url        MB_DATABASE_URL: postgresql://modebridge:<that password>@postgres:5432/modebridge
#   secret_key          MB_SECRET_KEY (32 random bytes, base64)
#   mode_project_key    MB_MODE_PROJECT_KEY: a random one for the emulator; for MODE, write your
#                       project's key into it
#   webhook_key         MB_WEBHOOK_KEY: a random one; for MODE, the Event Webhook key configured there
#
#   deploy/init-secrets.sh [dir]      (default: $MB_SECRETS_DIR, else ./secrets at the top of the repository)
#
# The directory is 0700 so that nobody else on the host reads it; the files in it are 0644 because
# compose mounts them as they are and the services run as an unprivileged user inside their containers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-${MB_SECRETS_DIR:-$root/secrets}}

mkdir -p "$dir"
chmod 700 "$dir"

# write <name> <value>: creates $dir/<name> unless it exists.
write() {
    if [ -e "$dir/$1" ]; then
        echo "init-secrets: $dir/$1 kept"
        return
    fi
    (umask 022 && printf '%s\n' "$2" >"$dir/$1.tmp")
    mv "$dir/$1.tmp" "$dir/$1"
    echo "init-secrets: $dir/$1 written"
}

random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

write postgres_password "$(random_hex 24)"
write database_url "postgresql://modebridge:$(cat "$dir/postgres_password")@postgres:5432/modebridge"
write secret_key "$(head -c 32 /dev/urandom | base64)"
write mode_project_key "$(random_hex 24)"
write webhook_key "$(random_hex 24)"
