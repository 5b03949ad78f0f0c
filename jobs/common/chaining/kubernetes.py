"""Starts as Kubernetes Jobs made from the downstream CronJobs' templates, through the official
client: ``get`` on those CronJobs, ``create`` on Jobs, ``create`` on Events — what the Role
``handoff-chainer`` grants, and the ValidatingAdmissionPolicy ``handoff-chained-jobs`` narrows
to Jobs made from handoff's own CronJobs.

Every call has a timeout: a blackholed API connection must not hold the upstream's pod until its
deadline, and fail a Job whose work (a promoted model) is already done.
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobs.common.chaining.starts import Outcome, Start, cronjob_name, job_from_cronjob

# connect, read (seconds), as the deployment target's calls.
REQUEST_TIMEOUT = (5, 30)
# Where a pod's service account token says which namespace it runs in.
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# The upstream pod's own Job (downward API, k8s/base/chaining-token.yaml): Events are about it.
JOB_NAME_ENV = "HANDOFF_CHAIN_JOB"
JOB_UID_ENV = "HANDOFF_CHAIN_JOB_UID"
REPORTER = "handoff-chaining"
# Event reason per outcome worth telling the cluster about.
REASONS = {Outcome.FAILED: "ChainingFailed", Outcome.SUSPENDED: "ChainingSuspended"}


def event(
    namespace: str, start: Start, outcome: Outcome, message: str, environ: Any = os.environ
) -> dict[str, Any]:
    """A core/v1 Event about the upstream's Job (or, outside a Job's pod, the downstream
    CronJob): ``kubectl describe job`` and ``kubectl get events`` show it."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    job = environ.get(JOB_NAME_ENV)
    involved: dict[str, Any] = (
        {"apiVersion": "batch/v1", "kind": "Job", "name": job, "namespace": namespace}
        if job
        else {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": cronjob_name(start.job),
            "namespace": namespace,
        }
    )
    if job and environ.get(JOB_UID_ENV):
        involved["uid"] = environ[JOB_UID_ENV]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{involved['name']}.{time.time_ns():x}", "namespace": namespace},
        "involvedObject": involved,
        "reason": REASONS[outcome],
        "message": message[:1024],
        "type": "Warning" if outcome is Outcome.FAILED else "Normal",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": REPORTER},
        "reportingComponent": REPORTER,
        "reportingInstance": socket.gethostname() or REPORTER,
    }


class KubernetesLauncher:
    """Jobs from CronJob templates, through the official client."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.api_client = api_client
        self.namespace = namespace

    @classmethod
    def from_environment(cls) -> KubernetesLauncher:
        """In a pod: its service account and namespace. Elsewhere: the kubeconfig's context."""
        from kubernetes import client, config

        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
            namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        else:
            # Read now: the client reads KUBECONFIG once, when it is imported.
            kubeconfig = os.environ.get("KUBECONFIG")
            config.load_kube_config(config_file=kubeconfig)
            _, active = config.list_kube_config_contexts(config_file=kubeconfig)
            namespace = active["context"].get("namespace") or "default"
        return cls(client.ApiClient(), namespace)

    def where(self) -> str:
        return f"namespace {self.namespace}"

    def start(self, start: Start) -> Outcome:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        batch = client.BatchV1Api(self.api_client)
        # The raw object, not the client's model of it: a field the client does not know yet
        # must still reach the Job.
        response = batch.read_namespaced_cron_job(
            cronjob_name(start.job),
            self.namespace,
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )
        cronjob = json.loads(response.data)
        if cronjob.get("spec", {}).get("suspend"):
            return Outcome.SUSPENDED
        body = job_from_cronjob(cronjob, start)
        try:
            batch.create_namespaced_job(self.namespace, body, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as err:
            if err.status == 409:  # AlreadyExists: this upstream version already started it
                return Outcome.ALREADY_STARTED
            raise
        return Outcome.STARTED

    def report(self, start: Start, outcome: Outcome, line: str) -> None:
        """An Event for a failed or suspended start; best effort (the caller logs failures)."""
        if outcome not in REASONS:
            return
        from kubernetes import client

        client.CoreV1Api(self.api_client).create_namespaced_event(
            self.namespace,
            event(self.namespace, start, outcome, line),
            _request_timeout=REQUEST_TIMEOUT,
        )
