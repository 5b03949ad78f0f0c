"""`handoff stop` (`make stop`) stops what `make run` and `make dashboard` left running and
waits; `handoff dashboard` without a local store says what to run first."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.cli import main
from jobs.deployment.targets.local import is_running


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HANDOFF_STATE_DIR", raising=False)
    return tmp_path


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes that stand for the endpoint and the dashboard, each its own group."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def sleeper(started: list[subprocess.Popen[bytes]]) -> int:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    started.append(process)
    return process.pid


def test_stop_stops_the_endpoint_and_the_dashboard_and_waits(
    in_tmp: Path, sleepers: list[subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    (in_tmp / ".handoff" / "serving").mkdir(parents=True)
    endpoint, dashboard = sleeper(sleepers), sleeper(sleepers)
    (in_tmp / ".handoff/serving/local-8000.json").write_text(json.dumps({"pid": endpoint}))
    url = "http://127.0.0.1:8237"
    (in_tmp / ".handoff/dashboard.json").write_text(json.dumps({"pid": dashboard, "url": url}))

    assert main(["stop"]) == 0
    assert not is_running(endpoint) and not is_running(dashboard)  # gone when stop returns
    out = capsys.readouterr().out
    assert f"stopped endpoint :8000 (pid {endpoint})" in out
    assert f"stopped dashboard {url}" in out

    assert main(["stop"]) == 0
    assert "nothing was running" in capsys.readouterr().out


def test_stop_with_nothing_recorded_is_done(
    in_tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stop"]) == 0
    assert "nothing was running" in capsys.readouterr().out


def test_dashboard_without_a_local_store_says_to_run_make_run_first(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZENML_CONFIG_PATH", str(in_tmp / "no-store"))
    assert main(["dashboard", "--port", "1"]) == 3
    assert "make run" in capsys.readouterr().err
    assert not (in_tmp / ".handoff" / "dashboard.json").exists()
