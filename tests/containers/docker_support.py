"""Docker plumbing shared by the container tests: the client, the daemon check, the scripts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# `make images` tags `dev`; the tests build under a tag of their own session (conftest), because
# the `dev` tags are shared with whatever else builds on this Docker host meanwhile.
TAG_PREFIX = "test"
LOCAL_BASE_IMAGE = "handoff-base:py3.11"
UID = "10001"
# Each image at most 800 MB uncompressed (issue 8): zenml + scikit-learn + pyarrow with compiled
# bytecode, without what the jobs never import (the Dockerfile's deps stage says what is dropped).
SIZE_BUDGET_BYTES = 800_000_000
# How the pods run (k8s base patch): read-only root, writable emptyDirs, no capabilities.
RESTRICTED = [
    "--rm",
    "--read-only",
    "--tmpfs", "/tmp",
    "--tmpfs", "/zenml-config",
    "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
    "--network", "none",
]  # fmt: skip
SECRET_ENV_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "ZENML_STORE_API_KEY")
SECRET_LOOKING_KEY = re.compile(r"AWS_|API_KEY|SECRET|TOKEN|PASSWORD|CERT|CA_BUNDLE")


def _docker_binary() -> str | None:
    if os.environ.get("DOCKER"):
        return os.environ["DOCKER"]
    # Debian's client matches the engine scripts/start-dockerd.sh runs and has BuildKit built in.
    if Path("/usr/bin/docker").exists():
        return "/usr/bin/docker"
    return shutil.which("docker")


DOCKER = _docker_binary()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    assert DOCKER is not None
    result = subprocess.run(
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"docker {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
        )
    return result


def run_restricted(image: str, *command: str, entrypoint: str | None = None, extra=()):
    args = ["run", *RESTRICTED, *extra]
    if entrypoint is not None:
        args += ["--entrypoint", entrypoint]
    return docker(*args, image, *command, check=False)


def _daemon_problem() -> str | None:
    if DOCKER is None:
        return "no docker client found (set DOCKER or run scripts/start-dockerd.sh)"
    try:
        info = subprocess.run(
            [DOCKER, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{DOCKER} version failed: {err}"
    if info.returncode != 0:
        reason = info.stderr.strip()[:300]
        return f"no Docker daemon reachable ({reason}); run scripts/start-dockerd.sh"
    return None


def _run_script(script: str, log: Path, env: dict[str, str], timeout: float) -> float:
    start = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            ["bash", str(REPO / "scripts" / script)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False,
        )  # fmt: skip
    if result.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-60:])
        pytest.fail(f"scripts/{script} exited {result.returncode} (full log {log}):\n{tail}")
    return time.monotonic() - start
