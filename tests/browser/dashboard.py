"""ZenML's dashboard driven by Debian's chromium (Playwright), and its REST API: what the browser
tests share. The OSS dashboard has no model pages (a ZenML Pro feature), so the way to a model
version's evaluation report is the run that produced the version, as a user without Pro goes."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path(os.environ.get("HANDOFF_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "browser"
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


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")


class Api:
    """The server's REST API as a user: what a test needs to know where to look."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url, self.username, self.password = url, username, password
        self.http = httpx.Client(trust_env=False, timeout=30.0, base_url=url + "/api/v1")
        token = self.http.post("/login", data={"username": username, "password": password}).json()[
            "access_token"
        ]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: object) -> dict:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def skip_onboarding(self) -> None:
        """A user's first dashboard visit asks for a survey; answer it as a person would."""
        self.http.put(
            "/current-user",
            json={"email_opted_in": False, "user_metadata": {"finished_onboarding_survey": True}},
        ).raise_for_status()

    def evaluation_report(self, model: str) -> tuple[dict, dict, dict]:
        """The newest version of ``model``, its evaluation_report artifact and the run that
        produced it."""
        (found,) = self.get("/models", name=model)["items"]
        version = self.get("/model_versions", model=found["id"], sort_by="desc:number")["items"][0]
        (report,) = [
            a
            for a in self.get("/artifact_versions", model_version_id=version["id"], hydrate=True)[
                "items"
            ]
            if a["body"]["artifact"]["name"] == "evaluation_report"
        ]
        (run,) = self.get("/runs", model_version_id=version["id"])["items"]
        return version, report, run


def report_text(api: Api, run: dict, report: dict, profile: Path, screenshot: Path) -> str:
    """Log in, open the run, pick its evaluation_report, load the visualization and return the
    report's text as the page shows it; a screenshot of the page is saved."""
    from playwright.sync_api import sync_playwright

    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(profile),  # a new, empty user data dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1100},
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)  # two shared cores, a cold server
            page.goto(f"{api.url}/login")
            page.fill("input[name=username]", api.username)
            page.fill("input[name=password]", api.password)
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
    return text
