"""Deployment targets: where a model version is served, behind one small interface.

A target answers what it serves now (``live``), serves a given version (``deploy``) and stops
(``stop``). Deploying, smoke-testing and rolling back are written once, in ``rollout``, on top.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from jobs.common.errors import Unavailable


@dataclass(frozen=True)
class Live:
    version: str
    endpoint: str
    since: str | None = None
    previous_version: str | None = None


class Target(Protocol):
    kind: str

    @property
    def endpoint(self) -> str: ...

    def live(self) -> Live | None: ...

    def deploy(self, model_name: str, version: str, model_artifact: str) -> None: ...

    def stop(self) -> None: ...


def served_version(endpoint: str, timeout: float = 3.0) -> str | None:
    """The version a handoff endpoint serves, or None if nothing ready answers there."""
    try:
        response = httpx.get(endpoint + "/version", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return str(response.json().get("version"))


def wait_ready(endpoint: str, timeout_s: float, alive: Any = None) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise Unavailable(f"the serving process for {endpoint} exited before it was ready")
        try:
            response = httpx.get(endpoint + "/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
            if response.json().get("status") == "failed":
                raise Unavailable(f"{endpoint} cannot serve: {response.json().get('error')}")
        except httpx.HTTPError as err:
            last = type(err).__name__
        time.sleep(0.3)
    raise Unavailable(f"{endpoint} was not ready within {timeout_s:.0f}s ({last})")


@dataclass
class LocalTarget:
    """A `python -m jobs.serving` process on this machine, on a fixed port."""

    host: str
    port: int
    state_dir: Path
    ready_timeout_s: float
    kind: str = "local"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def _state_file(self) -> Path:
        return self.state_dir / f"local-{self.port}.json"

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def live(self) -> Live | None:
        version = served_version(self.endpoint)
        if version is None:
            return None
        state = self._state()
        same = state.get("version") == version
        return Live(version, self.endpoint, state.get("since") if same else None,
                    state.get("previous_version") if same else None)

    def deploy(self, model_name: str, version: str, model_artifact: str) -> None:
        previous = self._state().get("version")
        self.stop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / f"local-{self.port}.log", "ab")  # noqa: SIM115 - child owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs.serving", "--host", self.host, "--port", str(self.port),
             "--model-name", model_name, "--model-version", version,
             "--model-artifact", model_artifact],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives this job: it is the endpoint
        )
        log.close()
        self._state_file.write_text(json.dumps({
            "pid": process.pid, "version": version, "previous_version": previous,
            "since": _now(),
        }))
        wait_ready(self.endpoint, self.ready_timeout_s, alive=lambda: process.poll() is None)

    def stop(self) -> None:
        pid = self._state().get("pid")
        if not pid:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)


def make_target(spec: dict[str, Any]) -> Target:
    kind = spec["target"]
    if kind == "local":
        return LocalTarget(spec["host"], int(spec["port"]), Path(spec["state_dir"]).absolute(),
                           float(spec["ready_timeout_s"]))
    raise ValueError(f"unknown deployment target {kind!r}")


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
