"""`make images` on a fresh machine: scripts/build-images.sh, run against a stand-in docker client
that records what it is asked, builds on the same base as the Dockerfile and skaffold, with no
provenance attestation (which `kind load docker-image` cannot import); CI names its local base."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from .manifests import BUILD_SCRIPT, DOCKERFILE, JOBS, REPO, skaffold_config

# A docker client that logs its arguments, one call per line, and answers `build --help` with
# $FAKE_BUILD_HELP and `image inspect` with a size.
FAKE_DOCKER = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$FAKE_DOCKER_LOG"
case "$1 ${2:-}" in
  "build --help") printf '%s\\n' "$FAKE_BUILD_HELP" ;;
  "image inspect") echo 1000000 ;;
esac
"""
BUILDX_HELP = "Usage: docker buildx build [OPTIONS] PATH\n      --provenance string   Shorthand"
CLASSIC_HELP = "Usage: docker build [OPTIONS] PATH\n      --target string   Set the target"


def dockerfile_default_base() -> str:
    [base] = re.findall(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M)
    return base


def make_images(tmp_path: Path, help_text: str, **env: str) -> list[list[str]]:
    """The `docker build` calls scripts/build-images.sh makes, each as its argument list."""
    docker = tmp_path / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    log = tmp_path / "docker.log"
    environ = {k: v for k, v in os.environ.items() if k not in {"BASE_IMAGE", "TAG"}}
    environ |= {"DOCKER": str(docker), "FAKE_DOCKER_LOG": str(log), "FAKE_BUILD_HELP": help_text}
    subprocess.run(
        ["bash", str(BUILD_SCRIPT)], env=environ | env, check=True, capture_output=True, timeout=60
    )
    calls = [line.split() for line in log.read_text().splitlines()]
    return [c for c in calls if c[0] == "build" and "--help" not in c]


def build_arg(call: list[str], name: str) -> str:
    [value] = [call[i + 1] for i, a in enumerate(call) if a == "--build-arg"]
    key, _, found = value.partition("=")
    assert key == name
    return found


def test_make_images_builds_on_the_dockerfiles_default_base_which_skaffold_uses_too(
    tmp_path: Path,
) -> None:
    builds = make_images(tmp_path, CLASSIC_HELP)
    assert len(builds) == len(JOBS)
    base = dockerfile_default_base()
    # The official image: a fresh machine pulls it; no home-made base is needed.
    assert base == "python:3.11-slim-bookworm"
    assert {build_arg(call, "BASE_IMAGE") for call in builds} == {base}
    # skaffold passes no BASE_IMAGE unless it is set, so it builds on the Dockerfile's default.
    assert all("buildArgs" not in a["docker"] for a in skaffold_config()["build"]["artifacts"])


def test_an_explicit_base_image_reaches_every_build(tmp_path: Path) -> None:
    builds = make_images(tmp_path, CLASSIC_HELP, BASE_IMAGE="handoff-base:py3.11")
    assert {build_arg(call, "BASE_IMAGE") for call in builds} == {"handoff-base:py3.11"}


@pytest.mark.parametrize(("help_text", "flag"), [(BUILDX_HELP, True), (CLASSIC_HELP, False)])
def test_no_build_carries_a_provenance_attestation(
    tmp_path: Path, help_text: str, flag: bool
) -> None:
    """A buildx-backed `docker build` adds one by default: turned off. The classic client adds
    none and would reject the flag."""
    for call in make_images(tmp_path, help_text):
        assert ("--provenance=false" in call) is flag, call


def test_skaffold_builds_every_artifact_without_provenance() -> None:
    for artifact in skaffold_config()["build"]["artifacts"]:
        assert "--provenance=false" in artifact["docker"].get("cliFlags", []), artifact["image"]


def test_ci_builds_every_image_on_the_local_base_image_it_made() -> None:
    """CI has no registry: it builds handoff-base:py3.11 and names it before any image build."""
    ci = (REPO / ".ci" / "run").read_text()
    base_script = (REPO / "scripts" / "build-base-image.sh").read_text()
    [local] = re.findall(r"^IMAGE=\$\{HANDOFF_BASE_IMAGE:-(\S+)\}$", base_script, re.M)
    built = ci.index("bash scripts/build-base-image.sh")
    named = ci.index(f"export BASE_IMAGE={local}\n")
    assert built < named < ci.index("make test-containers")
