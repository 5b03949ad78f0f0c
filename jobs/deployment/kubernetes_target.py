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
from dataclasses import dataclass, field
from typing import Any

from jobs.common.errors import BadInput, Unavailable
from jobs.common.model_registry import now
from jobs.deployment import kubernetes_rollout as k8s
from jobs.deployment.targets import Live, served_version, wait_serving

log = logging.getLogger("handoff")

POLL_S = 2.0
REQUEST_TIMEOUT = (5, 30)  # connect, read (seconds)
STRATEGIC_MERGE = "application/strategic-merge-patch+json"


class RolloutFailed(Exception):
    pass


@dataclass
class KubernetesTarget:
    namespace: str
    deployment: str
    service_url: str
    ready_timeout_s: float
    kind: str = "kubernetes"
    _api: Any = field(default=None, repr=False)
    _host: str = field(default="", repr=False)
    _before: dict[str, Any] | None = field(default=None, repr=False)

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

    def deploy(self, model_name: str, version: str, model_artifact: str) -> str:
        self._before = self._read()
        current = k8s.pinned(self._before)
        previous = current.version if current else served_version(self.service_url)
        if previous == version:  # the same version again (e.g. a stuck rollout): keep history
            previous = current.previous_version if current else None
        log.info(
            "patching deployment %s/%s to version %s", self.namespace, self.deployment, version
        )
        self._patch(k8s.pin_patch(k8s.Pin(version, now(), previous)))
        self._wait(version)
        return self.service_url

    def switch(self) -> None:
        """Nothing left to do: the rolling update replaced the pods once new ones were ready."""

    def restore(self, before: Live | None, model_name: str, model_artifact: str) -> None:
        snapshot = self._before if self._before is not None else self._read()
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

    def _apps(self) -> Any:
        if self._api is None:
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
            self._host = configuration.host
            self._api = client.AppsV1Api(client.ApiClient(configuration))
        return self._api

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

        api = self._apps()
        what = f"deployment {self.deployment} in namespace {self.namespace}"
        try:
            return json.loads(request(api).data)
        except ApiException as err:
            if err.status == 404:
                raise BadInput(
                    f"no {what} on {self._host}; apply the serving manifests "
                    "(k8s/overlays/...) or fix namespace/serving_deployment"
                ) from err
            if err.status in (401, 403):
                raise BadInput(
                    f"not allowed to {verb} {what} on {self._host} (HTTP "
                    f"{err.status}); the job's ServiceAccount needs the Role "
                    "handoff-deployer (get/patch)"
                ) from err
            raise Unavailable(
                f"the Kubernetes API at {self._host} answered {err.status} "
                f"{err.reason} to {verb} {what}"
            ) from err
        except (HTTPError, OSError) as err:
            reason = getattr(err, "reason", None) or err
            raise Unavailable(
                f"cannot reach the Kubernetes API at {self._host} to {verb} "
                f"{what}: {_first_line(reason)}"
            ) from err


def _first_line(err: object) -> str:
    # urllib3 puts the connection object's repr in front of the reason.
    text = re.sub(r"<[^>]*>: ", "", str(err)).strip().splitlines()
    return text[0] if text else type(err).__name__
