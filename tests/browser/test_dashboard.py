"""The evaluation report in the real ZenML dashboard, seen through headless Chromium.

A real ZenML server (its dashboard ships with zenml[server]) and S3 server on loopback; two
trainings, the second judged against the first; then Debian's chromium, driven by Playwright,
logs in as the admin, opens the model version's training run, picks its evaluation artifact,
loads the visualization and saves a screenshot under tests/output/browser/ (kept by CI).
The OSS dashboard has no model pages (a ZenML Pro feature), so the way to the model version's
artifact is the run that produced the version, as a user without Pro would go.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import servers
from tests.harness.runner import WORSE, JobRunner, bootstrap_stack, ok, server_runner

pytestmark = pytest.mark.browser
CHROMIUM = Path(os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "browser"
BUCKET = "handoff-dashboard"
# Debian's chromium, headless, as a clean profile that phones nowhere. WebGL off: the login
# page's animation in software GL alone takes a minute on two shared cores.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-3d-apis",
]


@pytest.fixture(scope="module")
def trained(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    runner = server_runner(zenml_server, tmp_path_factory.mktemp("dashboard"))
    bootstrap_stack(runner, s3_server, BUCKET, HANDOFF_CREATE_BUCKET="true")
    ok(runner.job("feature_engineering"))
    ok(runner.job("training"))  # the champion
    ok(runner.job("training", *WORSE))  # judged against it, stays in staging
    yield runner


class Api:
    """The server's REST API as the admin: what the test needs to know where to look."""

    def __init__(self, server: servers.ZenMLServer) -> None:
        self.url = server.url
        self.http = httpx.Client(trust_env=False, timeout=30.0, base_url=server.url + "/api/v1")
        token = self.http.post(
            "/login", data={"username": server.admin_username, "password": server.admin_password}
        ).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: object) -> dict:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def skip_onboarding(self) -> None:
        """The admin's first dashboard visit asks for a survey; answer it as a person would."""
        self.http.put(
            "/current-user",
            json={"email_opted_in": False, "user_metadata": {"finished_onboarding_survey": True}},
        ).raise_for_status()


def test_the_dashboard_shows_the_evaluation_report_of_a_model_version(
    trained: JobRunner, zenml_server: servers.ZenMLServer, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    api = Api(zenml_server)
    (model,) = api.get("/models", name="iris_classifier")["items"]
    versions = api.get("/model_versions", model=model["id"], sort_by="desc:number")["items"]
    version = versions[0]
    number = version["body"]["number"]
    promotion = api.get(f"/model_versions/{version['id']}", hydrate=True)["metadata"][
        "run_metadata"
    ]["promotion"]
    assert promotion["champion_version"], "the second training was judged against the first"
    (report,) = [
        a
        for a in api.get("/artifact_versions", model_version_id=version["id"], hydrate=True)[
            "items"
        ]
        if a["body"]["artifact"]["name"] == "evaluation_report"
    ]
    (run,) = api.get("/runs", model_version_id=version["id"])["items"]
    api.skip_onboarding()

    OUTPUT.mkdir(parents=True, exist_ok=True)
    screenshot = OUTPUT / "evaluation-report.png"
    profile = tmp_path / "chromium-profile"  # a new, empty user data dir
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1100},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)  # two shared cores, a cold server
            page.goto(f"{api.url}/login")
            page.fill("input[name=username]", zenml_server.admin_username)
            page.fill("input[name=password]", zenml_server.admin_password)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)

            page.goto(f"{api.url}/projects/default/runs/{run['id']}")
            page.get_by_text("evaluation_report", exact=True).click()
            page.get_by_text(report["id"], exact=True).wait_for()  # this version's artifact
            page.get_by_role("tab", name="Visualization").click()
            page.get_by_role("button", name="Load Preview").click()
            frame = page.frame_locator("iframe").first
            frame.get_by_text("Confusion matrix").wait_for()
            text = frame.locator("body").inner_text()
            page.screenshot(path=str(screenshot))
        finally:
            browser.close()
    print(f"\nscreenshot of the dashboard: {screenshot}")

    assert f"iris_classifier version {number}" in text
    assert f"candidate (version {number})" in text
    assert f"champion (version {promotion['champion_version']})" in text
    assert promotion["reason"] in text
    for name in ("setosa", "versicolor", "virginica"):
        assert name in text
    assert "Per class" in text and "precision" in text
    assert screenshot.stat().st_size > 10_000
