#!/usr/bin/env bash
# Make a Docker engine available on this machine: install Debian's docker.io (and debootstrap,
# which scripts/build-base-image.sh needs) when missing, start dockerd when it is not running,
# and wait until the daemon answers. Safe to run any number of times.
#
# Use the Debian client /usr/bin/docker: it matches this engine and has BuildKit built in
# (DOCKER_BUILDKIT=1), while a newer docker CLI elsewhere on PATH may expect a buildx plugin
# that bookworm does not package.
set -euo pipefail

DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}

need_install=()
[[ -x "$DOCKERD" && -x "$DOCKER" ]] || need_install+=(docker.io)
command -v debootstrap >/dev/null || need_install+=(debootstrap)
if ((${#need_install[@]})); then
    echo "start-dockerd: installing ${need_install[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi

if "$DOCKER" info >/dev/null 2>&1; then
    echo "start-dockerd: dockerd already running"
    exit 0
fi

pid=
if ! pgrep -x dockerd >/dev/null; then
    # No init system runs here; dockerd starts its own containerd when none is running.
    echo "start-dockerd: starting dockerd (log: $LOG)"
    nohup "$DOCKERD" >>"$LOG" 2>&1 </dev/null &
    pid=$!
fi

for ((i = 0; i < WAIT_SECONDS; i++)); do
    if "$DOCKER" info >/dev/null 2>&1; then
        echo "start-dockerd: dockerd ready after ${i}s"
        exit 0
    fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
        break
    fi
    sleep 1
done
echo "start-dockerd: dockerd did not answer within ${WAIT_SECONDS}s; last log lines:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
