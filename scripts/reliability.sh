#!/usr/bin/env bash
# Regenerates the figures of docs/reliability.md on this machine: installs what is missing, builds, starts
# a throwaway PostgreSQL/Redis/SMTP sink on loopback, runs the fault suite (tests/faults/) and writes its
# table, with the machine and commit it ran on, between the `<!-- generated:... -->` markers of the doc.
# The prose around them is written by hand. Takes about two minutes on a built tree.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
doc=$root/docs/reliability.md

./scripts/install-deps.sh
MB_BUILD_TARGETS="fault_tests modebridge-gateway modebridge-ingest mode-sim" ./scripts/build.sh

work=$(mktemp -d /tmp/mb-reliability-XXXXXX)
chmod 755 "$work"
cleanup() {
    ./scripts/stack.sh stop "$work/stack" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/stack"
./scripts/stack.sh start "$work/stack"
eval "$(./scripts/stack.sh env "$work/stack")"

MB_FAULT_REPORT=$work/faults.md "${MB_BUILD_DIR:-$root/build}/tests/fault_tests" --run_test=faults --report_level=short

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
{
    echo "Run on $(date -u +%Y-%m-%d) at commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- || echo ' (with local changes)'):"
    echo "$(nproc) cores ($cpu), $mem, Linux $(uname -r), Debian $(cat /etc/debian_version 2>/dev/null || echo '?')."
} >"$work/run.md"

python3 - "$doc" "$work/run.md" "$work/faults.md" <<'PY'
import re, sys
doc, run, faults = sys.argv[1:4]
text = open(doc).read()
for name, path in (("run", run), ("faults", faults)):
    body = open(path).read().rstrip("\n")
    pattern = re.compile(r"(<!-- generated:%s -->\n).*?(\n<!-- /generated:%s -->)" % (name, name), re.S)
    if not pattern.search(text):
        sys.exit("docs/reliability.md has no generated:%s section" % name)
    text = pattern.sub(lambda m: m.group(1) + body + m.group(2), text)
open(doc, "w").write(text)
PY
echo "reliability: docs/reliability.md updated"
