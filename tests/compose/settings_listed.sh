#!/usr/bin/env bash
# Every variable of the README's configuration table is listed in .env.example and passed through by
# docker-compose.yml, so an operator of the compose deployment can set each one. Exceptions, as
# docs/operations.md says: MB_LISTEN is fixed by the compose file, and TLS is terminated in front of it.
set -euo pipefail
root=$1
vars=$(sed -n '/^## Configuration/,/^## /p' "$root/README.md" | grep '^| `MB_' | cut -d'|' -f2 |
       grep -o 'MB_[A-Z0-9_]*' | sort -u)
[ -n "$vars" ] || { echo "no variables found in the README's configuration table"; exit 1; }
fixed="MB_LISTEN MB_TLS_CERT_FILE MB_TLS_KEY_FILE"
missing=0
for v in $vars; do
    case " $fixed " in *" $v "*) continue ;; esac
    grep -q "^#\?$v=" "$root/.env.example" || { echo ".env.example does not list $v"; missing=1; }
    grep -q "\b$v\b" "$root/docker-compose.yml" || { echo "docker-compose.yml does not pass $v"; missing=1; }
done
[ "$missing" = 0 ] && echo "$(echo "$vars" | wc -w) variables listed in both"
exit "$missing"
