"""`make run`, `make dashboard`, `make stop` as a newcomer types them, and nothing is left
listening (~1.5 min: the whole chain, then ZenML's server). Make runs in a directory of the
test's own (its `.handoff/` is there) with this venv, on free ports."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jobs.deployment.targets.local import is_running
from tests.harness import servers
from tests.harness.runner import REPO

pytestmark = pytest.mark.e2e
VENV = Path(sys.executable).parent.parent


class Make:
    def __init__(self, workdir: Path, endpoint_port: int, dashboard_port: int) -> None:
        self.workdir = workdir
        env = servers.local_env(workdir / "unused")
        env.pop("ZENML_CONFIG_PATH")  # make run names its own store: .handoff/zenml
        self.env = {**env, "HANDOFF_PORT": str(endpoint_port)}  # the local endpoint's port
        self.dashboard_port = dashboard_port

    def __call__(self, target: str) -> str:
        """`make <target>` with this venv, never syncing it (-o: its stamp counts as done)."""
        proc = subprocess.run(
            ["make", "-f", str(REPO / "Makefile"), "-o", f"{VENV}/.synced", f"VENV={VENV}",
             f"DASHBOARD_PORT={self.dashboard_port}", target],
            cwd=self.workdir, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, f"make {target}: {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return proc.stdout


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Make]:
    made = Make(tmp_path, servers.free_port(), servers.free_port())
    try:
        yield made
    finally:  # whatever the test got to, nothing outlives it
        subprocess.run([VENV / "bin" / "handoff", "stop"], cwd=tmp_path, env=made.env,
                       capture_output=True, check=False, timeout=120)  # fmt: skip


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((servers.LOOPBACK, port)) == 0


def test_make_stop_stops_what_make_run_and_make_dashboard_left(make: Make) -> None:
    endpoint = f"http://{servers.LOOPBACK}:{make.env['HANDOFF_PORT']}"
    out = make("run")
    assert endpoint in out  # the summary names the endpoint
    (state,) = (make.workdir / ".handoff" / "serving").glob("local-*.json")
    serving = json.loads(state.read_text())
    with httpx.Client(trust_env=False, timeout=10.0) as http:
        assert http.get(f"{endpoint}/readyz").status_code == 200

        out = make("dashboard")
        dashboard = f"http://{servers.LOOPBACK}:{make.dashboard_port}"
        assert dashboard in out
        assert http.get(f"{dashboard}/health").status_code == 200
        assert "already running" in make("dashboard")  # a second call starts nothing
    recorded = json.loads((make.workdir / ".handoff/dashboard.json").read_text())

    out = make("stop")
    assert f"stopped endpoint :{make.env['HANDOFF_PORT']}" in out
    assert f"stopped dashboard {dashboard}" in out
    for port in (int(make.env["HANDOFF_PORT"]), make.dashboard_port):
        assert not listening(port), f"something still listens on {port}"
    assert not is_running(serving["pid"]) and not is_running(recorded["pid"])

    assert "nothing was running" in make("stop")
