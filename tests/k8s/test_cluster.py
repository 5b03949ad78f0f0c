"""The dev overlay on a real cluster: platform up, stack bootstrapped, then the chain run by hand
exactly as a user would (`kubectl create job --from=cronjob/...`).

Needs KUBECONFIG pointing at a disposable cluster (kind, minikube) whose nodes already have the
five images under their plain names (e.g. `skaffold build` with a local cluster, or
`docker build --target training -t handoff-training .` then `kind load docker-image
handoff-training`, for each job). It applies k8s/overlays/dev into namespace `handoff` and
leaves it there for inspection. If Secret handoff-zenml does not exist, it creates a service
account and API key on the in-cluster ZenML server (dev only: the server auto-activates).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from .manifests import BATCH_JOBS, JOBS, K8S, NAMESPACE, kubectl

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


def ensure_api_key() -> None:
    if k("get", "secret", "handoff-zenml", "--ignore-not-found", "-o", "name").strip():
        return
    k(
        "rollout",
        "status",
        "deployment/zenml-server",
        f"--timeout={PLATFORM_TIMEOUT_S}s",
        timeout=PLATFORM_TIMEOUT_S + 30,
    )
    account = f"handoff-jobs-{uuid.uuid4().hex[:8]}"
    key_file = f"/tmp/{account}.key"
    # Inside the server pod the zenml CLI talks to the server's own database as the default user.
    k(
        "exec",
        "deploy/zenml-server",
        "--",
        "zenml",
        "service-account",
        "create",
        account,
        "--output-file",
        key_file,
        timeout=300,
    )
    key = k("exec", "deploy/zenml-server", "--", "cat", key_file).strip()
    k("exec", "deploy/zenml-server", "--", "rm", "-f", key_file)
    assert key, "the ZenML server returned no API key"
    secret = k(
        "create",
        "secret",
        "generic",
        "handoff-zenml",
        f"--from-literal=api-key={key}",
        "--dry-run=client",
        "-o",
        "json",
    )
    k("apply", "-f", "-", input=secret)


def test_dev_overlay_runs_the_whole_chain() -> None:
    k("apply", "-k", str(K8S / "overlays" / "dev"), timeout=300)
    ensure_api_key()
    wait_for_job("minio-create-bucket", PLATFORM_TIMEOUT_S)
    wait_for_job("handoff-stack-bootstrap", PLATFORM_TIMEOUT_S)

    run = uuid.uuid4().hex[:6]
    for job in BATCH_JOBS:
        name = f"{JOBS[job]}-{run}"
        k("create", "job", f"--from=cronjob/{JOBS[job]}", name)
        wait_for_job(name, JOB_TIMEOUT_S)

    # The deployment job rolled the endpoint onto the production model.
    k("rollout", "status", f"deployment/{JOBS['serving']}", "--timeout=600s", timeout=630)
    template = json.loads(k("get", "deployment", JOBS["serving"], "-o", "json"))["spec"]["template"]
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0].get("env", [])}
    assert env.get("HANDOFF_MODEL_VERSION"), "the deployment job did not set the model version"
    assert template["metadata"].get("annotations", {}).get("handoff.dev/model-version")
