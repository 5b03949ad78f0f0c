#!/usr/bin/env bash
# Build the local base image handoff-base:py3.11 (Debian bookworm minbase + Debian's python3.11,
# python3-venv, ca-certificates) with debootstrap and `docker import`.
#
# Why: no container registry is reachable from here, so python:3.11-slim-bookworm cannot be
# pulled; the Debian mirror can be reached. The Dockerfile defaults to the official image and
# takes this one through --build-arg BASE_IMAGE=handoff-base:py3.11.
#
# Skips the build when the image already exists (FORCE=1 rebuilds; HANDOFF_BASE_IMAGE renames it).
# Needs root, debootstrap and a running dockerd (scripts/start-dockerd.sh).
set -euo pipefail

IMAGE=${HANDOFF_BASE_IMAGE:-handoff-base:py3.11}
SUITE=bookworm
DOCKER=${DOCKER:-/usr/bin/docker}

if [[ ${FORCE:-0} != 1 ]] && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "build-base-image: $IMAGE already exists (FORCE=1 to rebuild)"
    exit 0
fi

# Use the mirrors apt already uses on this machine, so the build works wherever apt does.
apt_uris() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        # deb822 "URIs:" lines and one-line "deb [options] URI suite ..." entries.
        awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}
             $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f"
    done
}
MIRROR=${DEBIAN_MIRROR:-$(apt_uris | grep -m1 -E '/debian/?$' || true)}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-$(apt_uris | grep -m1 -E '/debian-security/?$' || true)}
if [[ -z $MIRROR ]]; then
    echo "build-base-image: no Debian mirror in apt's sources; set DEBIAN_MIRROR" >&2
    exit 2
fi
# Without a security mirror the image still builds, with the point release's fixes only.

rootfs=$(mktemp -d /var/tmp/handoff-base.XXXXXX)
cleanup() {
    umount "$rootfs/proc" 2>/dev/null || true
    rm -rf --one-file-system "$rootfs"
}
trap cleanup EXIT

log=$rootfs.log
quietly() { "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; exit 1; }; }

start=$SECONDS
echo "build-base-image: debootstrap $SUITE from $MIRROR (log: $log)"
quietly debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$rootfs" "$MIRROR"

# debootstrap only reads the release pocket; take the point-release and security fixes too.
{
    echo "deb $MIRROR $SUITE main"
    echo "deb $MIRROR $SUITE-updates main"
    [[ -z $SECURITY_MIRROR ]] || echo "deb $SECURITY_MIRROR $SUITE-security main"
} >"$rootfs/etc/apt/sources.list"
mount -t proc proc "$rootfs/proc"
# The _apt sandbox user cannot read the build's temp dirs; this chroot is thrown away anyway.
apt_opts=(-o APT::Sandbox::User=root -y -q)
quietly chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
quietly chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" upgrade
quietly chroot "$rootfs" apt-get clean
umount "$rootfs/proc"

# The image only runs Python; apt's lists, docs, man pages and locales are dead weight in it.
# Copyright files stay (licences), and so do the stdlib's .pyc files: containers run with a
# read-only root, so anything not compiled here is recompiled at every start.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache
find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
# Machine identity must be generated per container, not shipped.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"

tar --numeric-owner --xattrs -C "$rootfs" -c . |
    "$DOCKER" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        --message "debootstrap $SUITE minbase + python3 python3-venv ca-certificates" \
        - "$IMAGE" >/dev/null

size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
rm -f "$log"
echo "build-base-image: built $IMAGE in $((SECONDS - start))s, $((size / 1000000)) MB"
