"""The fault battery's table: each case says what fault it made, what happened and what was
lost; `make faults` writes the table to tests/output/faults.md (ignored by git, kept by CI), never
into the repository: a partial run must not overwrite docs/faults.md, the committed table of a
whole run. A case that fails is written as failed, with its first line of error."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.harness.runner import REPO, JobRunner

TABLE = Path(os.environ.get("HANDOFF_FAULTS_TABLE") or REPO / "tests" / "output" / "faults.md")
ROWS: list[tuple[str, str, str]] = []


@dataclass
class Case:
    fault: str = ""
    happened: list[str] = field(default_factory=list)
    done: bool = False

    def saw(self, what: str) -> None:
        self.happened.append(what)

    def nothing_lost(self) -> None:
        """Call last, after every assertion on the store and the object store held."""
        ROWS.append((self.fault, "; ".join(self.happened), "nothing"))
        self.done = True


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    found = Case(fault=request.node.name)
    request.node.battery_case = found
    yield found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    found = getattr(item, "battery_case", None)
    if report.when == "call" and report.failed and found is not None and not found.done:
        first = str(call.excinfo.value).strip().splitlines()[0][:160] if call.excinfo else "?"
        ROWS.append((found.fault, "; ".join([*found.happened, f"TEST FAILED: {first}"]), "?"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not ROWS:
        return
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "| fault | what happened | what was lost |",
        "|---|---|---|",
        *(f"| {f} | {h.replace('|', '/')} | {lost} |" for f, h, lost in ROWS),
    ]
    TABLE.write_text("\n".join(lines) + "\n")


def state(store: JobRunner, artifacts: list[str], pipelines: list[str]) -> dict:
    result = store._run(
        [sys.executable, "-m", "tests.faults.state", ",".join(artifacts), ",".join(pipelines)],
        PYTHONPATH=str(REPO),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_nothing_half_done(seen: dict) -> None:
    """Exactly one production version; every artifact visible by name loads; no run left
    running; no promotion lock left behind by a live holder."""
    assert len(seen["production"]) == 1, f"production versions: {seen['production']}"
    broken = {
        name: [v for v in versions if v["error"]]
        for name, versions in seen["artifacts"].items()
        if any(v["error"] for v in versions)
    }
    assert not broken, f"artifact versions visible by name that do not load: {broken}"


def unfinished(seen: dict) -> list[str]:
    return [
        f"{pipeline}:{run['name']}"
        for pipeline, runs in seen["runs"].items()
        for run in runs
        if run["status"] in ("initializing", "provisioning", "running")
    ]
