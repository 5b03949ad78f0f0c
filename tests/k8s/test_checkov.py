"""checkov finds nothing wrong in the rendered manifests, and every check it skips says why.

checkov lives in its own environment (its pins clash with zenml's), found through
HANDOFF_CHECKOV or PATH; .ci/run installs it with `uv tool install checkov==<version>`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .manifests import REPO, overlays, render_text

CHECKOV = os.environ.get("HANDOFF_CHECKOV") or shutil.which("checkov")


needs_checkov = pytest.mark.skipif(
    not CHECKOV,
    reason="checkov not found (set HANDOFF_CHECKOV or put it on PATH; "
    "install it outside the project venv: `uv tool install checkov`)",
)


@needs_checkov
def test_checkov_passes_every_rendered_overlay(tmp_path: Path) -> None:
    files = []
    for overlay in overlays():
        path = tmp_path / f"{overlay}.yaml"
        path.write_text(render_text(overlay))
        files += ["--file", str(path)]
    assert_checkov_clean([*files, "--framework", "kubernetes"], tmp_path)


@needs_checkov
def test_checkov_passes_the_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    shutil.copy(REPO / "Dockerfile", dockerfile)
    assert_checkov_clean(["--file", str(dockerfile), "--framework", "dockerfile"], tmp_path)


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    proc = subprocess.run(
        [str(hadolint), str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def assert_checkov_clean(args: list[str], cwd: Path) -> None:
    # --skip-download: no Prisma Cloud look-ups (there is no network for them in CI).
    # cwd: no stray .checkov.yaml from elsewhere changes the result.
    proc = subprocess.run(
        [CHECKOV, *args, "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    assert proc.stdout.strip(), (
        f"checkov printed nothing (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    checked = 0
    for result in reports:
        summary = result["summary"]
        assert summary["parsing_errors"] == 0, summary
        checked += summary["resource_count"]
        failed = [
            f"{c['check_id']} {c['check_name']}: {c['resource']}"
            for c in result["results"]["failed_checks"]
        ]
        assert not failed, "checkov failures:\n" + "\n".join(failed)
        for skipped in result["results"]["skipped_checks"]:
            reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
            assert reason and reason != "No comment provided", (
                f"{skipped['check_id']} skipped on {skipped['resource']} without a reason"
            )
    assert checked > 0, "checkov checked no resource"
