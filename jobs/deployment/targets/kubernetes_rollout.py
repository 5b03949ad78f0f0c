"""The kubernetes target's decisions, as plain functions of the Deployment object.

Everything here reads or builds the JSON the API server speaks (``kubectl get deploy -o json``),
so it is tested over recorded status sequences without a cluster: whether a rollout is still
going, done or failed; which version the pod template pins; and the strategic-merge patches that
pin a version or put back what was served before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CONTAINER = "serving"
"""The container of the serving Deployment that runs the model (k8s/base/serving.yaml)."""
VERSION_ENV = "HANDOFF_MODEL_VERSION"
VERSION_ANNOTATION = "handoff.dev/model-version"
# On the Deployment itself, not the pod template: when the pinned version went live and which
# version it replaced, for `handoff status`; changing them restarts no pod.
SINCE_ANNOTATION = "handoff.dev/deployed-at"
PREVIOUS_ANNOTATION = "handoff.dev/previous-model-version"

State = Literal["waiting", "complete", "failed"]


@dataclass(frozen=True)
class Progress:
    state: State
    message: str


@dataclass(frozen=True)
class Pin:
    version: str
    since: str | None = None
    previous_version: str | None = None


def progress(deployment: Mapping[str, Any]) -> Progress:
    """Where a rollout stands, by the rules of ``kubectl rollout status``.

    Only a status the controller wrote for the current spec (observedGeneration) counts; then
    a Progressing condition with reason ProgressDeadlineExceeded is a failure, and the rollout is
    complete once every replica is updated, no old one is left, and the updated ones are
    available (which needs their readiness probe to pass).
    """
    meta = deployment.get("metadata", {})
    spec = deployment.get("spec", {})
    status = deployment.get("status") or {}
    name = meta.get("name", "deployment")
    if spec.get("paused"):
        return Progress("failed", f"{name} is paused; resume it (kubectl rollout resume)")
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return Progress("waiting", f"{name}: waiting for the controller to see the new spec")
    progressing = _condition(status, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Progress(
            "failed",
            f"{name} exceeded its progress deadline: {progressing.get('message', '')}".rstrip(": "),
        )
    wanted = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    replicas = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    if updated < wanted:
        return Progress("waiting", f"{name}: {updated} of {wanted} new replicas updated")
    if replicas > updated:
        return Progress("waiting", f"{name}: {replicas - updated} old replicas pending termination")
    if available < updated:
        return Progress("waiting", f"{name}: {available} of {updated} updated replicas available")
    return Progress("complete", f"{name}: {updated} replicas serve the new pod template")


def wait_decision(deployment: Mapping[str, Any], elapsed_s: float, timeout_s: float) -> Progress:
    """Keep waiting, done, or give up: a rollout still waiting at the timeout is stuck (pods
    that crash or never turn ready keep it waiting until the controller's own, longer,
    progress deadline)."""
    now = progress(deployment)
    if now.state == "waiting" and elapsed_s >= timeout_s:
        return Progress(
            "failed", f"rollout did not complete within {timeout_s:.0f}s ({now.message})"
        )
    return now


def pinned(deployment: Mapping[str, Any], container: str = CONTAINER) -> Pin | None:
    """The version the pod template pins (env and annotation agree), or None if unpinned."""
    template = deployment.get("spec", {}).get("template", {})
    annotations = template.get("metadata", {}).get("annotations") or {}
    version = annotations.get(VERSION_ANNOTATION)
    env = {
        e.get("name"): e.get("value")
        for c in template.get("spec", {}).get("containers", [])
        if c.get("name") == container
        for e in c.get("env") or []
    }
    if not version or env.get(VERSION_ENV) != version:
        return None
    own = deployment.get("metadata", {}).get("annotations") or {}
    return Pin(str(version), own.get(SINCE_ANNOTATION), own.get(PREVIOUS_ANNOTATION))


def pin_patch(pin: Pin, container: str = CONTAINER) -> dict[str, Any]:
    """Strategic-merge patch: the pods serve ``pin.version`` (containers and env merge by name,
    so nothing else in the template changes)."""
    return {
        "metadata": {
            "annotations": {SINCE_ANNOTATION: pin.since, PREVIOUS_ANNOTATION: pin.previous_version}
        },
        "spec": {
            "template": {
                "metadata": {"annotations": {VERSION_ANNOTATION: pin.version}},
                "spec": {
                    "containers": [
                        {"name": container, "env": [{"name": VERSION_ENV, "value": pin.version}]}
                    ]
                },
            }
        },
    }


def unpin_patch(container: str = CONTAINER) -> dict[str, Any]:
    """Strategic-merge patch back to the manifest's own template (serve production at start)."""
    return {
        "metadata": {"annotations": {SINCE_ANNOTATION: None, PREVIOUS_ANNOTATION: None}},
        "spec": {
            "template": {
                "metadata": {"annotations": {VERSION_ANNOTATION: None}},
                "spec": {
                    "containers": [
                        {"name": container, "env": [{"name": VERSION_ENV, "$patch": "delete"}]}
                    ]
                },
            }
        },
    }


def rollback_patch(
    before: Mapping[str, Any], served_before: str | None, now: str, container: str = CONTAINER
) -> dict[str, Any]:
    """The rollback decision: the patch that serves again what was served before.

    A pinned template gets its pin (and its since/previous) back. An unpinned one loads
    production at start, which is now the failed version, so the version it was seen serving
    is pinned instead; if nothing answered before, the template goes back as it was.
    """
    pin = pinned(before, container)
    if pin is not None:
        return pin_patch(pin, container)
    if served_before:
        return pin_patch(Pin(served_before, now, None), container)
    return unpin_patch(container)


def _condition(status: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None
