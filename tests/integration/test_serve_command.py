"""`handoff serve --port P` really serves: a process on a free port, over a trained model."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.harness import servers
from tests.harness.runner import champion_runner

pytestmark = pytest.mark.integration

MODEL_LOAD_TIMEOUT_S = 120.0


def test_handoff_serve_on_a_port_answers_healthz_and_serves_the_version_asked(
    tmp_path: Path,
) -> None:
    store = champion_runner(tmp_path / "store")

    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "jobs.cli", "serve", "--host", servers.LOOPBACK,
                "--port", str(port), "--model-version", "1"]  # fmt: skip

    # Started, waited for until /readyz answers (the model loaded), stopped and waited for.
    with servers._serve(
        "handoff serve",
        command,
        store.env,
        lambda port: f"http://{servers.LOOPBACK}:{port}/readyz",
        tmp_path / "serve.log",
        MODEL_LOAD_TIMEOUT_S,
    ) as (port, _, _control):
        url = f"http://{servers.LOOPBACK}:{port}"
        with httpx.Client(trust_env=False, timeout=10.0) as http:
            assert http.get(f"{url}/healthz").status_code == 200
            assert str(http.get(f"{url}/version").json()["version"]) == "1"
