"""The evaluation report in the real ZenML dashboard, seen through headless Chromium.

A real ZenML server (its dashboard ships with zenml[server]) and S3 server on loopback; two
trainings, the second judged against the first; then Debian's chromium, driven by Playwright,
logs in as the admin, opens the model version's training run, picks its evaluation artifact,
loads the visualization and saves a screenshot under tests/output/browser/ (kept by CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.dashboard import OUTPUT, Api, report_text, require_chromium
from tests.harness import servers
from tests.harness.runner import WORSE, JobRunner, bootstrap_stack, ok, server_runner

pytestmark = pytest.mark.browser
BUCKET = "handoff-dashboard"


@pytest.fixture(scope="module")
def trained(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    require_chromium()
    runner = server_runner(zenml_server, tmp_path_factory.mktemp("dashboard"))
    bootstrap_stack(runner, s3_server, BUCKET, HANDOFF_CREATE_BUCKET="true")
    ok(runner.job("feature_engineering"))
    ok(runner.job("training"))  # the champion
    ok(runner.job("training", *WORSE))  # judged against it, stays in staging
    yield runner


def test_the_dashboard_shows_the_evaluation_report_of_a_model_version(
    trained: JobRunner, zenml_server: servers.ZenMLServer, tmp_path: Path
):
    api = Api(zenml_server.url, zenml_server.admin_username, zenml_server.admin_password)
    version, report, run = api.evaluation_report("iris_classifier")
    number = version["body"]["number"]
    promotion = api.get(f"/model_versions/{version['id']}", hydrate=True)["metadata"][
        "run_metadata"
    ]["promotion"]
    assert promotion["champion_version"], "the second training was judged against the first"
    api.skip_onboarding()

    screenshot = OUTPUT / "evaluation-report.png"
    text = report_text(api, run, report, tmp_path / "chromium-profile", screenshot)

    assert f"iris_classifier version {number}" in text
    assert f"candidate (version {number})" in text
    assert f"champion (version {promotion['champion_version']})" in text
    assert promotion["reason"] in text
    for name in ("setosa", "versicolor", "virginica"):
        assert name in text
    assert "Per class" in text and "precision" in text
    assert screenshot.stat().st_size > 10_000
