"""The kubernetes target on a real cluster: rollouts of the serving Deployment, for real.

Needs the serving Deployment pinned to a production version of a model trained on the
in-cluster ZenML server: what tests/k8s/test_cluster.py leaves behind (same KUBECONFIG), or, when
this module runs alone, what the README walkthrough it then runs first sets up. Then:

- the deployment job (its CronJob, its ServiceAccount and Role) does nothing when production is
  already served;
- a new production version, promoted by a training job, rolls out through the deployment job
  that the promotion starts, while a client keeps calling the Service;
- a version whose pods never turn ready makes the target roll back to the served version.

The test process reaches the Service through `kubectl proxy` (the API server's service proxy),
which routes each request to a ready pod as the Service would.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from jobs.deployment.rollout import rollout
from jobs.deployment.targets import kubernetes_rollout as k8s
from jobs.deployment.targets.base import Release
from jobs.deployment.targets.endpoint import served_version
from jobs.deployment.targets.kubernetes import KubernetesTarget
from tests.harness import iris
from tests.harness.jobs import JOBS
from tests.harness.servers import free_port
from tests.harness.traffic import predicted_version, traffic

from .manifests import NAMESPACE, kubectl
from .test_cluster import JOB_TIMEOUT_S, jobs_started_by, k, run_walkthrough, wait_for_job

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"), reason="KUBECONFIG is not set: no cluster to run on"
    ),
]

SERVING = JOBS["serving"]
MODEL = "iris_classifier"


def deployment() -> dict[str, Any]:
    return json.loads(k("get", "deployment", SERVING, "-o", "json"))


def run_job(cronjob: str) -> str:
    name = f"{cronjob}-{uuid.uuid4().hex[:6]}"
    k("create", "job", f"--from=cronjob/{cronjob}", name)
    wait_for_job(name, JOB_TIMEOUT_S)
    return k("logs", f"job/{name}", "--all-containers")


def pinned() -> k8s.Pin | None:
    found = k("get", "deployment", SERVING, "--ignore-not-found", "-o", "name").strip()
    return k8s.pinned(deployment()) if found else None


@pytest.fixture(scope="module")
def pinned_version() -> str:
    """The version the serving Deployment is pinned to. Run alone (the cluster test has not
    left the chain deployed), this module first runs the README walkthrough itself and waits
    for the deployment job it starts to pin the serving Deployment."""
    if pinned() is None:
        run_walkthrough()
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while pinned() is None or k8s.progress(deployment()).state != "complete":
            assert time.monotonic() < deadline, f"{SERVING} was not rolled out by the chain"
            time.sleep(5)
    pin = pinned()
    assert pin is not None
    return pin.version


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    port = free_port()
    proxy = subprocess.Popen(
        [kubectl(), "proxy", f"--port={port}", "--address=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/version", timeout=2, trust_env=False).status_code == 200:
                    break
            time.sleep(0.3)
        yield f"{base}/api/v1/namespaces/{NAMESPACE}/services/{SERVING}:http/proxy"
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def test_the_job_does_nothing_when_production_is_served(pinned_version: str):
    generation = deployment()["metadata"]["generation"]
    logs = run_job(JOBS["deployment"])
    assert f"already serves {MODEL} version" in logs and "nothing to do" in logs
    assert deployment()["metadata"]["generation"] == generation


def test_a_new_production_version_rolls_out_while_the_service_answers(
    pinned_version: str, service_url: str
):
    before = {job["metadata"]["name"] for job in jobs_started_by("training")}
    with traffic(predicted_version(f"{service_url}/predict"), pause_s=0.2) as answers:
        # Same data, same classifier: at least as good, so promoted; the promotion starts the
        # deployment job itself (chaining), pinned to the new version. Running one more here
        # would race it.
        run_job(JOBS["training"])
        [started] = [
            job
            for job in jobs_started_by("training")
            if job["metadata"]["name"] not in before
            and job["metadata"]["labels"]["app.kubernetes.io/name"] == JOBS["deployment"]
        ]
        name = started["metadata"]["name"]
        wait_for_job(name, JOB_TIMEOUT_S)
        logs = k("logs", f"job/{name}", "--all-containers")

    after = deployment()
    pin = k8s.pinned(after)
    assert pin is not None and pin.version != pinned_version, logs
    assert pin.version == started["metadata"]["annotations"]["handoff.dev/upstream-version"]
    assert pin.previous_version == pinned_version
    assert f"deployed {MODEL} version {pin.version} to kubernetes" in logs
    assert k8s.progress(after).state == "complete"
    assert served_version(service_url) == pin.version
    assert not answers.failures, answers.failures[:5]
    # Old and new pods both answer for a moment (maxSurge 1): either version, never an error.
    seen = answers.seen
    assert seen and set(seen) <= {pinned_version, pin.version}, seen


def test_pods_that_never_turn_ready_are_rolled_back(pinned_version: str, service_url: str):
    served = k8s.pinned(deployment())
    assert served is not None and served.version == pinned_version
    target = KubernetesTarget(NAMESPACE, SERVING, service_url, ready_timeout_s=90)
    # No such version: its pods start but /readyz never turns 200, so the rollout never ends.
    record = rollout(target, Release(MODEL, "999999", "trained_model"), pd.DataFrame(iris.ROWS))
    assert record["status"] == "rolled_back", record
    assert "did not complete within 90s" in record["error"]
    assert record["previous_version"] == served.version and "restore_error" not in record

    after = deployment()
    assert k8s.pinned(after) == served  # the same pin, since and previous as before
    assert k8s.progress(after).state == "complete"
    assert served_version(service_url) == served.version
