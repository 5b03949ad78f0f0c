"""The local target: a ``python -m jobs.serving`` process on this machine, on a fixed port.

The process outlives the job (it is the endpoint); a small state file next to its log says
which process it is, which version it serves, since when and which version it replaced.
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
from typing import Any

from jobs.common.store.model_registry import now
from jobs.deployment.targets.base import Live, Release
from jobs.deployment.targets.endpoint import served_version, wait_ready

STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class LocalPlan:
    release: Release
    previous_version: str | None
    """What the state file said was served when the plan was made."""


@dataclass(frozen=True)
class LocalTarget:
    host: str
    port: int
    state_dir: Path
    ready_timeout_s: float
    kind: str = "local"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / f"local-{self.port}.json"

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
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

    def prepare(self, release: Release) -> LocalPlan:
        return LocalPlan(release, self._state().get("version"))

    def deploy(self, plan: LocalPlan) -> str:
        """One process on one port: the old one stops before the new one starts."""
        release = plan.release
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
                release.model_name,
                "--model-version",
                release.version,
                "--model-artifact",
                release.model_artifact,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives this job: it is the endpoint
        )
        log.close()
        self.state_file.write_text(
            json.dumps(
                {
                    "pid": process.pid,
                    "version": release.version,
                    "previous_version": plan.previous_version,
                    "since": now(),
                }
            )
        )
        wait_ready(self.endpoint, self.ready_timeout_s, alive=lambda: process.poll() is None)
        return self.endpoint

    def switch(self, plan: LocalPlan) -> None:
        """Clients already reach the new process: it took over the port."""

    def restore(self, before: Live | None, release: Release, plan: LocalPlan | None) -> None:
        if before is None:
            self.stop()
        else:
            back = Release(release.model_name, before.version, release.model_artifact)
            self.deploy(self.prepare(back))

    def stop(self) -> None:
        pid = self._state().get("pid")
        if pid:
            stop_process_group(int(pid))


def stop_every_endpoint(state_dir: Path) -> list[str]:
    """Stop every endpoint this target started from ``state_dir`` (one state file per port),
    each waited for until gone (``make stop``); the endpoints that were running."""
    stopped = []
    for state_file in sorted(state_dir.glob("local-*.json")):
        try:
            pid = int(json.loads(state_file.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if is_running(pid):
            stop_process_group(pid)
            stopped.append(f":{state_file.stem.removeprefix('local-')} (pid {pid})")
    return stopped


def stop_process_group(pid: int, grace_s: float = STOP_GRACE_S) -> None:
    """Stop the serving process ``pid`` and its group, and wait until it is gone: SIGTERM (it
    finishes in-flight requests), then SIGKILL if it is still there after ``grace_s``."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, signum)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace_s
        while is_running(pid):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        else:
            return


def is_running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie has exited, reaped or not)."""
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the kernel
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie nobody reaps yet has exited all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
