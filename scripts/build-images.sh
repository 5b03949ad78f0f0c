#!/usr/bin/env bash
# Build every job image from the one Dockerfile and tag it handoff-<target>:<tag>.
#
#   scripts/build-images.sh                 # all targets, tag "dev"
#   TAG=abc123 scripts/build-images.sh training serving
#
# Settings (environment):
#   BASE_IMAGE  base image build-arg (default python:3.11-slim-bookworm, the Dockerfile's and
#               skaffold's default too; where no registry is reachable, build handoff-base:py3.11
#               with build-base-image.sh and set BASE_IMAGE=handoff-base:py3.11, as CI does)
#   CA_BUNDLE   CA bundle passed as the BuildKit secret "ca" when the file exists (default: the
#               system bundle; needed behind a TLS-intercepting proxy; never stored in an image)
#   TAG         image tag (default dev)
#   DOCKER      docker client (default /usr/bin/docker, Debian's, which has BuildKit built in)
set -euo pipefail

cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-/usr/bin/docker}
BASE_IMAGE=${BASE_IMAGE:-python:3.11-slim-bookworm}
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
TAG=${TAG:-dev}
ALL_TARGETS=(feature-engineering training batch-inference deployment serving gc monitoring)
targets=("$@")
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")

export DOCKER_BUILDKIT=1

build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
[[ -s $CA_BUNDLE ]] && build_args+=(--secret "id=ca,src=$CA_BUNDLE")
# No provenance attestation: it turns the image into an index whose attestation manifest
# `docker save` leaves out, and `kind load docker-image` then aborts (kind#3795) on Docker's
# containerd image store. Only a buildx-backed `docker build` knows the flag; the classic client
# (Debian's, BuildKit through the daemon) attaches no attestation in the first place.
build_help=$("$DOCKER" build --help 2>/dev/null || true)
[[ $build_help == *--provenance* ]] && build_args+=(--provenance=false)
# BuildKit's plain progress keeps CI logs readable; PROGRESS=auto for a terminal.
build_args+=(--progress "${PROGRESS:-plain}")

start=$SECONDS
for target in "${targets[@]}"; do
    t0=$SECONDS
    echo "build-images: building $target"
    # The targets share every layer up to the runtime stage, so after the first one the others
    # are cache hits plus one metadata layer.
    "$DOCKER" build "${build_args[@]}" --target "$target" --tag "handoff-$target:$TAG" .
    echo "build-images: handoff-$target:$TAG built in $((SECONDS - t0))s"
done

echo "build-images: all built in $((SECONDS - start))s"
for target in "${targets[@]}"; do
    size=$("$DOCKER" image inspect --format '{{.Size}}' "handoff-$target:$TAG")
    printf 'build-images: %-36s %6d MB\n' "handoff-$target:$TAG" $((size / 1000000))
done
