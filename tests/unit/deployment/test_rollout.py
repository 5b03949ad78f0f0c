"""rollout(): clients are switched only after a passing smoke test; any failure restores."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from jobs.deployment.rollout import rollout
from jobs.deployment.targets.base import Live, Release

ROWS = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
V2 = Release("iris", "2", "trained_model")


@pytest.fixture
def endpoint() -> Iterator[dict]:
    """An endpoint whose /predict answers as configured: {"version": ..., "status": ...}."""
    answer = {"version": "2", "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # http.server's name for it
            records = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["records"]
            body = json.dumps({"predictions": ["x"] * len(records), "version": answer["version"]})
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    answer["url"] = f"http://127.0.0.1:{server.server_port}"
    yield answer
    server.shutdown()


@dataclass
class Recorder:
    """A target that records what rollout() asks of it."""

    url: str
    before: Live | None = None
    fail: str = ""
    calls: list[str] = field(default_factory=list)
    kind: str = "fake"

    @property
    def endpoint(self) -> str:
        return self.url

    def live(self) -> Live | None:
        return self.before

    def prepare(self, release: Release) -> str:
        if self.fail == "prepare":
            raise RuntimeError("the target cannot be read")
        return f"plan {release.version}"

    def deploy(self, plan: str) -> str:
        self.calls.append(f"deploy {plan}")
        if self.fail == "deploy":
            raise RuntimeError("the new version did not start")
        return self.url

    def switch(self, plan: str) -> None:
        self.calls.append(f"switch {plan}")
        if self.fail == "switch":
            raise RuntimeError("the router did not come up")

    def restore(self, before: Live | None, release: Release, plan: str | None) -> None:
        self.calls.append(f"restore {before.version if before else None} after {plan}")
        if self.fail == "restore":
            raise RuntimeError("the old version did not come back\nmore detail")


def test_a_passing_smoke_test_switches_and_records_the_previous_version(endpoint):
    target = Recorder(endpoint["url"], before=Live("1", endpoint["url"]))
    record = rollout(target, V2, ROWS)
    assert target.calls == ["deploy plan 2", "switch plan 2"]
    assert record["status"] == "deployed" and record["previous_version"] == "1"
    assert record["smoke_rows"] == 2 and record["endpoint"] == endpoint["url"]


def test_a_wrong_answer_never_reaches_clients(endpoint):
    endpoint["version"] = "1"  # the old version still answers where the new one should
    target = Recorder(endpoint["url"], before=Live("1", endpoint["url"]))
    record = rollout(target, V2, ROWS)
    assert target.calls == ["deploy plan 2", "restore 1 after plan 2"]
    assert record["status"] == "rolled_back" and "version 1" in record["error"]


def test_an_error_answer_is_rolled_back(endpoint):
    endpoint["status"] = 500
    target = Recorder(endpoint["url"], before=None)
    record = rollout(target, V2, ROWS)
    assert target.calls == ["deploy plan 2", "restore None after plan 2"]
    assert "answered 500" in record["error"] and record["previous_version"] is None


@pytest.mark.parametrize("step", ["deploy", "switch"])
def test_a_failing_step_restores_the_previous_version_with_the_plan(endpoint, step: str):
    target = Recorder(endpoint["url"], before=Live("1", endpoint["url"]), fail=step)
    record = rollout(target, V2, ROWS)
    assert target.calls[-1] == "restore 1 after plan 2"
    assert record["status"] == "rolled_back" and "restore_error" not in record


def test_a_target_that_cannot_be_read_is_restored_without_a_plan(endpoint):
    target = Recorder(endpoint["url"], before=Live("1", endpoint["url"]), fail="prepare")
    record = rollout(target, V2, ROWS)
    assert target.calls == ["restore 1 after None"]
    assert record["status"] == "rolled_back" and record["error"] == "the target cannot be read"


def test_a_failing_restore_is_recorded_on_one_line(endpoint):
    endpoint["status"] = 500
    target = Recorder(endpoint["url"], before=Live("1", endpoint["url"]), fail="restore")
    record = rollout(target, V2, ROWS)
    assert record["status"] == "rolled_back"
    assert record["restore_error"] == "the old version did not come back"
