"""The deployment job with nothing in production, once per target: each target is built from
the settings first — reaching no process, container, daemon or API — and the job then stops
with exit 3 naming the job to run first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.runner import last_line, local_runner


@pytest.mark.parametrize(
    ("kind", "endpoint"),
    [
        ("local", "http://127.0.0.1:8000"),
        ("docker", "http://127.0.0.1:8000"),
        ("kubernetes", "http://handoff-serving:8080"),
    ],
)
def test_no_production_model_is_a_precondition_on_every_target(
    tmp_path: Path, kind: str, endpoint: str
):
    # Neither is reached: the production check comes before anything the target does.
    cold = local_runner(tmp_path).with_env(
        DOCKER_HOST="unix:///nonexistent/docker.sock", KUBECONFIG=str(tmp_path / "absent")
    )
    result = cold.job("deployment", "--target", kind)
    assert result.returncode == 3, result.stderr
    assert f"deploying to the {kind} target at {endpoint}" in result.stderr
    last = last_line(result)
    assert "no production version yet; run the training job first" in last and len(last) < 300
    assert not (tmp_path / ".handoff").exists()  # the local target started nothing
