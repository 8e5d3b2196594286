#!/usr/bin/env bash
# Builds the image `debian:bookworm-slim` locally when the engine does not have it yet: machines without a
# container registry (CI) get the same base from Debian's own mirror, with debootstrap and `docker import`.
# The result is cached in the engine: a second run returns at once. Needs root, debootstrap and a running
# engine (tests/compose/run.sh provides both).
#
#   tests/compose/base-image.sh [image]     (default image: debian:bookworm-slim)
#
# The mirror is the first Debian one apt uses on this machine (MB_DEBIAN_MIRROR overrides it).
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
image=${1:-debian:bookworm-slim}

if docker image inspect "$image" >/dev/null 2>&1; then
    echo "base-image: $image already present"
    exit 0
fi

apt_mirror() {
    local m
    m=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -oE 'https?://[^ ]+/debian/?' | grep -v security | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}
mirror=${MB_DEBIAN_MIRROR:-$(apt_mirror)}
mirror=${mirror%/}

work=$(mktemp -d /tmp/mb-base-XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
rootfs=$work/rootfs

echo "base-image: debootstrap --variant=minbase bookworm from $mirror"
if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    echo "base-image: debootstrap failed" >&2
    exit 1
fi

# What the official slim image adds to a minbase system: the full apt sources, no caches or
# documentation kept by later installs, and no daemons started by package scripts.
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
DPKG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod +x "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log

tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$image" >/dev/null
echo "base-image: built $image"
