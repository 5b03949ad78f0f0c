"""Deployment targets: where a model version is served, behind one small interface.

A target answers what it serves now (``live``), brings up a given version and says where to
smoke-test it (``deploy``), sends clients to it and retires what served before (``switch``), or
puts the previous state back (``restore``). Deploying, smoke-testing and rolling back are written
once, in ``rollout``, on top. The docker and kubernetes targets live in their own modules and are
imported only when chosen (their client libraries are slow to import).
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
    steady: bool = True
    """Serves ``version`` and will keep doing so: nothing is half rolled out or unpinned."""


class Target(Protocol):
    kind: str

    @property
    def endpoint(self) -> str:
        """Where clients reach the model; stays the same across versions."""
        ...

    def live(self) -> Live | None: ...

    def deploy(self, model_name: str, version: str, model_artifact: str) -> str:
        """Bring ``version`` up and ready; return the URL to smoke-test it at."""
        ...

    def switch(self) -> None:
        """Send clients to what ``deploy`` brought up and retire what served before."""
        ...

    def restore(self, before: Live | None, model_name: str, model_artifact: str) -> None:
        """After a failed deploy or smoke test: serve ``before`` again (or nothing)."""
        ...


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


def wait_serving(endpoint: str, version: str, timeout_s: float, in_a_row: int = 3) -> None:
    """Until ``endpoint`` answers with ``version`` a few times in a row: behind a load balancer
    a replica that is still going away may answer once more."""
    deadline = time.monotonic() + timeout_s
    seen: str | None = None
    streak = 0
    while time.monotonic() < deadline:
        seen = served_version(endpoint)
        streak = streak + 1 if seen == version else 0
        if streak >= in_a_row:
            return
        time.sleep(0.5)
    raise Unavailable(
        f"{endpoint} did not answer with version {version} within "
        f"{timeout_s:.0f}s (last answer: {seen or 'none'})"
    )


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
        return Live(
            version,
            self.endpoint,
            state.get("since") if same else None,
            state.get("previous_version") if same else None,
        )

    def deploy(self, model_name: str, version: str, model_artifact: str) -> str:
        """One process on one port: the old one stops before the new one starts."""
        previous = self._state().get("version")
        self.stop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.state_dir / f"local-{self.port}.log", "ab")  # noqa: SIM115 - child owns it
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobs.serving",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--model-name",
                model_name,
                "--model-version",
                version,
                "--model-artifact",
                model_artifact,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives this job: it is the endpoint
        )
        log.close()
        self._state_file.write_text(
            json.dumps(
                {
                    "pid": process.pid,
                    "version": version,
                    "previous_version": previous,
                    "since": _now(),
                }
            )
        )
        wait_ready(self.endpoint, self.ready_timeout_s, alive=lambda: process.poll() is None)
        return self.endpoint

    def switch(self) -> None:
        """Clients already reach the new process: it took over the port."""

    def restore(self, before: Live | None, model_name: str, model_artifact: str) -> None:
        if before is None:
            self.stop()
        else:
            self.deploy(model_name, before.version, model_artifact)

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
    """The target a deployment settings dump describes (see ``Settings.target_spec``)."""
    kind = spec["target"]
    if kind == "local":
        return LocalTarget(
            spec["host"],
            int(spec["port"]),
            Path(spec["state_dir"]).absolute(),
            float(spec["ready_timeout_s"]),
        )
    if kind == "docker":
        from jobs.deployment.docker_target import DockerTarget

        return DockerTarget(
            model_name=spec["model_name"],
            host=spec["host"],
            port=int(spec["port"]),
            image=spec["docker_image"],
            router_image=spec["docker_router_image"],
            network=spec["docker_network"],
            ready_timeout_s=float(spec["ready_timeout_s"]),
        )
    if kind == "kubernetes":
        from jobs.deployment.kubernetes_target import KubernetesTarget

        return KubernetesTarget(
            namespace=spec["namespace"],
            deployment=spec["serving_deployment"],
            service_url=spec["service_url"].rstrip("/"),
            ready_timeout_s=float(spec["ready_timeout_s"]),
        )
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
    from jobs.common.model_registry import now

    return now()
