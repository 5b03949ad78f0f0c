"""`make dashboard` in headless chromium: ZenML's dashboard over the local store a local run
used shows that run's evaluation report, logged in as the local store's own user (`default`,
no password), as the README says. `handoff dashboard` is what `make dashboard` runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.dashboard import OUTPUT, Api, report_text, require_chromium
from tests.harness import servers
from tests.harness.runner import champion_runner, ok

pytestmark = pytest.mark.browser


def test_the_local_dashboard_shows_the_local_runs_evaluation_report(tmp_path: Path) -> None:
    require_chromium()
    store = champion_runner(tmp_path)  # a local store, as `make run` leaves one
    port = servers.free_port()
    try:
        out = ok(store.handoff("dashboard", "--port", str(port)))
        assert f"http://{servers.LOOPBACK}:{port}" in out
        api = Api(f"http://{servers.LOOPBACK}:{port}", "default", "")
        version, report, run = api.evaluation_report("iris_classifier")
        api.skip_onboarding()
        screenshot = OUTPUT / "local-evaluation-report.png"
        text = report_text(api, run, report, tmp_path / "chromium-profile", screenshot)
    finally:
        ok(store.handoff("stop"))

    assert f"iris_classifier version {version['body']['number']}" in text
    for name in ("setosa", "versicolor", "virginica"):
        assert name in text
    assert "Per class" in text and "precision" in text
