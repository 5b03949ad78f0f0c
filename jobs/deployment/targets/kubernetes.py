"""The kubernetes target: the serving Deployment, rolled onto a model version by one patch.

The pod template pins the version (env ``HANDOFF_MODEL_VERSION`` and annotation
``handoff.dev/model-version``); changing it is an ordinary rolling update, and the manifest's
``maxUnavailable: 0`` plus the readiness probe on /readyz keep old pods answering until new ones
can. Needs only get/patch on the one Deployment (the Role handoff-deployer): no pods, no
ReplicaSets. Credentials: the pod's ServiceAccount in a cluster, the kubeconfig elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jobs.common.runtime.errors import BadInput, Unavailable
from jobs.common.store.model_registry import now
from jobs.deployment.targets import kubernetes_rollout as k8s
from jobs.deployment.targets.base import Live, Release
from jobs.deployment.targets.endpoint import served_version, wait_serving

log = logging.getLogger("handoff")

POLL_S = 2.0
REQUEST_TIMEOUT = (5, 30)  # connect, read (seconds)
STRATEGIC_MERGE = "application/strategic-merge-patch+json"


class RolloutFailed(Exception):
    pass


@dataclass(frozen=True)
class KubernetesPlan:
    release: Release
    before: dict[str, Any]
    """The Deployment as it was read before the patch: what a rollback puts back."""
    pin: k8s.Pin


@dataclass
class KubernetesTarget:
    namespace: str
    deployment: str
    service_url: str
    ready_timeout_s: float
    kind: str = "kubernetes"

    @property
    def endpoint(self) -> str:
        return self.service_url

    def live(self) -> Live | None:
        deployment = self._read()
        pin = k8s.pinned(deployment)
        if pin is None:
            # Unpinned pods loaded whatever was production when they started: ask them.
            version = served_version(self.service_url)
            return None if version is None else Live(version, self.service_url, steady=False)
        done = k8s.progress(deployment).state == "complete"
        return Live(pin.version, self.service_url, pin.since, pin.previous_version, steady=done)

    def prepare(self, release: Release) -> KubernetesPlan:
        before = self._read()
        current = k8s.pinned(before)
        previous = current.version if current else served_version(self.service_url)
        if previous == release.version:  # the same version again (a stuck rollout): keep history
            previous = current.previous_version if current else None
        return KubernetesPlan(release, before, k8s.Pin(release.version, now(), previous))

    def deploy(self, plan: KubernetesPlan) -> str:
        log.info(
            "patching deployment %s/%s to version %s",
            self.namespace,
            self.deployment,
            plan.pin.version,
        )
        self._patch(k8s.pin_patch(plan.pin))
        self._wait(plan.pin.version)
        return self.service_url

    def switch(self, plan: KubernetesPlan) -> None:
        """Nothing left to do: the rolling update replaced the pods once new ones were ready."""

    def restore(self, before: Live | None, release: Release, plan: KubernetesPlan | None) -> None:
        snapshot = plan.before if plan is not None else self._read()
        served = before.version if before else None
        log.info(
            "rolling deployment %s/%s back to %s",
            self.namespace,
            self.deployment,
            f"version {served}" if served else "its previous pod template",
        )
        self._patch(k8s.rollback_patch(snapshot, served, now()))
        self._wait(served)

    def _wait(self, version: str | None) -> None:
        started = time.monotonic()
        while True:
            decision = k8s.wait_decision(
                self._read(), time.monotonic() - started, self.ready_timeout_s
            )
            if decision.state == "failed":
                raise RolloutFailed(decision.message)
            if decision.state == "complete":
                break
            log.debug("%s", decision.message)
            time.sleep(POLL_S)
        if version is not None:
            # The Service may route to a pod that is going away for a moment longer.
            left = max(self.ready_timeout_s - (time.monotonic() - started), 30.0)
            wait_serving(self.service_url, version, left)

    # --- the API: two calls, errors as one line -------------------------------------------

    @cached_property
    def _configuration(self) -> Any:
        """Credentials, loaded on first use (building a target touches no API)."""
        from kubernetes import client, config

        configuration = client.Configuration()
        try:
            if os.environ.get("KUBERNETES_SERVICE_HOST"):
                config.load_incluster_config(client_configuration=configuration)
            else:
                config.load_kube_config(client_configuration=configuration)
        except config.ConfigException as err:
            raise BadInput(
                f"no Kubernetes credentials: not in a pod and no usable "
                f"kubeconfig ({err}); set KUBECONFIG"
            ) from err
        configuration.retries = 1
        return configuration

    @cached_property
    def _apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(client.ApiClient(self._configuration))

    def _read(self) -> dict[str, Any]:
        return self._call(
            "read",
            lambda api: api.read_namespaced_deployment(
                self.deployment,
                self.namespace,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )

    def _patch(self, body: dict[str, Any]) -> dict[str, Any]:
        # Said explicitly: this client sends a dict body as a JSON patch by default.
        return self._call(
            "patch",
            lambda api: api.patch_namespaced_deployment(
                self.deployment,
                self.namespace,
                body,
                _content_type=STRATEGIC_MERGE,
                _preload_content=False,
                _request_timeout=REQUEST_TIMEOUT,
            ),
        )

    def _call(self, verb: str, request: Any) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        api = self._apps
        host = self._configuration.host
        what = f"deployment {self.deployment} in namespace {self.namespace}"
        try:
            return json.loads(request(api).data)
        except ApiException as err:
            if err.status == 404:
                raise BadInput(
                    f"no {what} on {host}; apply the serving manifests "
                    "(k8s/overlays/...) or fix namespace/serving_deployment"
                ) from err
            if err.status in (401, 403):
                raise BadInput(
                    f"not allowed to {verb} {what} on {host} (HTTP "
                    f"{err.status}); the job's ServiceAccount needs the Role "
                    "handoff-deployer (get/patch)"
                ) from err
            raise Unavailable(
                f"the Kubernetes API at {host} answered {err.status} {err.reason} to {verb} {what}"
            ) from err
        except (HTTPError, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise Unavailable(
                f"cannot reach the Kubernetes API at {host} to {verb} {what}: {_first_line(reason)}"
            ) from err


def _first_line(err: object) -> str:
    # urllib3 puts the connection object's repr in front of the reason.
    text = re.sub(r"<[^>]*>: ", "", str(err)).strip().splitlines()
    return text[0] if text else type(err).__name__
