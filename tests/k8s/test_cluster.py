"""The README's kind walkthrough on a real cluster, pasted as a newcomer would: namespace,
volumes, the dev overlay, waits, the API key via --output-file, the bootstrap, then feature
engineering, which starts training, whose promotion starts batch inference and deployment.

Needs KUBECONFIG pointing at a disposable cluster (kind, minikube) whose node already has the
five images as `make images` tags them (the README's setup block: `make images` and `kind
load docker-image`). It deletes namespace `handoff` first, so that the walkthrough starts from
nothing, and leaves the result there for inspection.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from jobs.common import chaining

from . import walkthrough
from .manifests import JOBS, NAMESPACE, REPO, kubectl

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"), reason="KUBECONFIG is not set: no cluster to run on"
    ),
]

PLATFORM_TIMEOUT_S = 900
JOB_TIMEOUT_S = 1800


def k(*args: str, input: str | None = None, timeout: float = 120, check: bool = True) -> str:
    proc = subprocess.run(
        [kubectl(), "-n", NAMESPACE, *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def wait_for_job(name: str, timeout_s: float) -> None:
    """Until the Job completes; fail with its logs when it fails or runs out of time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = json.loads(k("get", "job", name, "-o", "json"))["status"]
        conditions = {c["type"]: c for c in status.get("conditions", []) if c["status"] == "True"}
        if "Complete" in conditions or "SuccessCriteriaMet" in conditions:
            return
        if "Failed" in conditions:
            logs = k("logs", f"job/{name}", "--all-containers", "--tail=50", check=False)
            raise AssertionError(
                f"job {name} failed ({conditions['Failed'].get('reason')}):\n{logs}"
            )
        time.sleep(5)
    logs = k("logs", f"job/{name}", "--all-containers", "--tail=50", check=False)
    raise AssertionError(f"job {name} did not finish within {timeout_s}s:\n{logs}")


def run_walkthrough() -> None:
    for block in walkthrough.blocks("run"):
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=3 * JOB_TIMEOUT_S,
            check=False,
        )
        assert proc.returncode == 0, f"README block failed:\n{block}\n{proc.stdout}\n{proc.stderr}"


def jobs_started_by(upstream: str) -> list[dict]:
    selector = f"handoff.dev/upstream-job={upstream}"
    return json.loads(k("get", "jobs", "-l", selector, "-o", "json"))["items"]


def test_the_readme_walkthrough_runs_the_chain_through_events() -> None:
    subprocess.run(
        [kubectl(), "delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait"],
        check=True,
        timeout=PLATFORM_TIMEOUT_S,
    )
    run_walkthrough()

    # Feature engineering started exactly one training, pinned to the datasets it published.
    [training] = jobs_started_by("feature-engineering")
    assert training["metadata"]["labels"]["app.kubernetes.io/name"] == JOBS["training"]
    args = training["spec"]["template"]["spec"]["containers"][0]["args"]
    version = training["metadata"]["annotations"]["handoff.dev/upstream-version"]
    assert args[-4:] == ["--train-version", version, "--test-version", version]

    # Its promotion started batch inference and deployment for exactly that model version.
    started = {
        j["metadata"]["labels"]["app.kubernetes.io/name"]: j for j in jobs_started_by("training")
    }
    assert set(started) == {JOBS["batch_inference"], JOBS["deployment"]}
    model = {j["metadata"]["annotations"]["handoff.dev/upstream-version"] for j in started.values()}
    [model_version] = model
    for job in started.values():
        assert job["spec"]["template"]["spec"]["containers"][0]["args"][-2:] == [
            "--model-version",
            model_version,
        ]
        wait_for_job(job["metadata"]["name"], JOB_TIMEOUT_S)

    # The deployment job rolled the endpoint onto that model version.
    template = json.loads(k("get", "deployment", JOBS["serving"], "-o", "json"))["spec"]["template"]
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0].get("env", [])}
    assert env.get("HANDOFF_MODEL_VERSION") == model_version
    assert template["metadata"].get("annotations", {}).get("handoff.dev/model-version")

    # The same upstream version again (a retried feature engineering) starts nothing new.
    launcher = chaining.KubernetesLauncher.from_environment()
    launcher.namespace = NAMESPACE
    run = training["metadata"]["annotations"]["handoff.dev/upstream-run"]
    upstream = chaining.Upstream("feature-engineering", version, run)
    pins = {"train_version": version, "test_version": version}
    assert (
        launcher.start(chaining.Start("training", upstream, pins))
        is chaining.Outcome.ALREADY_STARTED
    )
    assert len(jobs_started_by("feature-engineering")) == 1

    # The whole walkthrough again, in a row: every create is skipped, replaces or is new.
    secrets = k("get", "secrets", "handoff-zenml", "handoff-zenml-serving", "-o", "json")
    run_walkthrough()
    again = k("get", "secrets", "handoff-zenml", "handoff-zenml-serving", "-o", "json")
    assert json.loads(again)["items"][0]["data"] == json.loads(secrets)["items"][0]["data"]
