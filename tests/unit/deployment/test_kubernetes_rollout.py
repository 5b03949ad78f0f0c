"""Rollout-wait and rollback decisions over Deployment objects as the API server returns them.

The statuses below follow what the deployment controller writes during a rolling update of
the serving Deployment (replicas 1, maxSurge 1, maxUnavailable 0): the spec change not yet
observed, the new ReplicaSet scaling up next to the old one, the old one scaling down, done —
and the two ways it goes wrong: the controller's progress deadline, or a new pod that never
turns ready (stuck until our own timeout).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from jobs.deployment.targets import kubernetes_rollout as k8s

NEW_RS = 'ReplicaSet "handoff-serving-7c6b9d5f4" is progressing.'


def deployment(
    generation: int,
    status: dict[str, Any],
    *,
    replicas: int = 1,
    paused: bool = False,
    pin: str | None = "3",
) -> dict[str, Any]:
    template_meta: dict[str, Any] = {"labels": {"app.kubernetes.io/name": "handoff-serving"}}
    env: list[dict[str, Any]] = [{"name": "ZENML_CONFIG_PATH", "value": "/zenml-config"}]
    if pin:
        template_meta["annotations"] = {k8s.VERSION_ANNOTATION: pin}
        env.insert(0, {"name": k8s.VERSION_ENV, "value": pin})
    spec: dict[str, Any] = {
        "replicas": replicas,
        "template": {
            "metadata": template_meta,
            "spec": {"containers": [{"name": "serving", "env": env}]},
        },
    }
    if paused:
        spec["paused"] = True
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "handoff-serving",
            "namespace": "handoff",
            "generation": generation,
            "annotations": {
                k8s.SINCE_ANNOTATION: "2026-11-26T06:00:00+00:00",
                k8s.PREVIOUS_ANNOTATION: "2",
            },
        },
        "spec": spec,
        "status": status,
    }


def conditions(
    progressing_reason: str,
    progressing_status: str = "True",
    available: str = "True",
    message: str = NEW_RS,
) -> list[dict[str, Any]]:
    return [
        {
            "type": "Available",
            "status": available,
            "reason": "MinimumReplicasAvailable"
            if available == "True"
            else "MinimumReplicasUnavailable",
            "message": "Deployment has minimum availability.",
        },
        {
            "type": "Progressing",
            "status": progressing_status,
            "reason": progressing_reason,
            "message": message,
        },
    ]


# A rolling update from generation 2 to 3, as successive GETs see it.
NOT_OBSERVED = {
    "observedGeneration": 2,
    "replicas": 1,
    "updatedReplicas": 1,
    "readyReplicas": 1,
    "availableReplicas": 1,
    "conditions": conditions("NewReplicaSetAvailable"),
}
SURGED = {
    "observedGeneration": 3,
    "replicas": 2,
    "updatedReplicas": 1,
    "readyReplicas": 1,
    "availableReplicas": 1,
    "unavailableReplicas": 1,
    "conditions": conditions("ReplicaSetUpdated"),
}
NEW_READY = {
    "observedGeneration": 3,
    "replicas": 2,
    "updatedReplicas": 1,
    "readyReplicas": 2,
    "availableReplicas": 2,
    "conditions": conditions("ReplicaSetUpdated"),
}
COMPLETE = {
    "observedGeneration": 3,
    "replicas": 1,
    "updatedReplicas": 1,
    "readyReplicas": 1,
    "availableReplicas": 1,
    "conditions": conditions(
        "NewReplicaSetAvailable",
        message='ReplicaSet "handoff-serving-7c6b9d5f4" has successfully progressed.',
    ),
}
DEADLINE = {
    "observedGeneration": 3,
    "replicas": 2,
    "updatedReplicas": 1,
    "readyReplicas": 1,
    "availableReplicas": 1,
    "unavailableReplicas": 1,
    "conditions": conditions(
        "ProgressDeadlineExceeded",
        "False",
        message='ReplicaSet "handoff-serving-7c6b9d5f4" has timed out progressing.',
    ),
}


def test_a_rolling_update_waits_until_the_old_replica_is_gone():
    states = [k8s.progress(deployment(3, s)) for s in (NOT_OBSERVED, SURGED, NEW_READY, COMPLETE)]
    assert [s.state for s in states] == ["waiting", "waiting", "waiting", "complete"]
    assert "new spec" in states[0].message
    assert "1 old replicas pending termination" in states[1].message


def test_an_old_complete_status_does_not_count_for_a_new_spec():
    # Before the controller observes generation 3, last generation's "complete" is stale.
    assert k8s.progress(deployment(3, NOT_OBSERVED)).state == "waiting"
    assert k8s.progress(deployment(2, NOT_OBSERVED)).state == "complete"


def test_updated_replicas_must_all_be_available():
    scaling = {**COMPLETE, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}
    progress = k8s.progress(deployment(3, scaling, replicas=2))
    assert progress.state == "waiting" and "1 of 2 updated replicas available" in progress.message
    half = {**SURGED, "replicas": 3, "updatedReplicas": 1}
    assert "1 of 2 new replicas updated" in k8s.progress(deployment(3, half, replicas=2)).message


def test_progress_deadline_exceeded_fails_at_once():
    progress = k8s.wait_decision(deployment(3, DEADLINE), elapsed_s=1, timeout_s=300)
    assert progress.state == "failed"
    assert "exceeded its progress deadline" in progress.message
    assert "timed out progressing" in progress.message


def test_a_stale_deadline_from_the_last_rollout_is_not_this_ones_failure():
    assert k8s.progress(deployment(4, DEADLINE)).state == "waiting"


def test_a_rollout_stuck_on_a_pod_that_never_turns_ready_fails_at_the_timeout():
    stuck = deployment(3, SURGED)  # the new pod crash-loops: this status does not change
    assert k8s.wait_decision(stuck, elapsed_s=119, timeout_s=120).state == "waiting"
    late = k8s.wait_decision(stuck, elapsed_s=120, timeout_s=120)
    assert late.state == "failed"
    assert "did not complete within 120s" in late.message
    assert "old replicas pending termination" in late.message


def test_complete_beats_the_timeout():
    assert k8s.wait_decision(deployment(3, COMPLETE), 500, 120).state == "complete"


def test_a_paused_deployment_never_rolls_out():
    progress = k8s.progress(deployment(3, SURGED, paused=True))
    assert progress.state == "failed" and "paused" in progress.message


def test_a_brand_new_deployment_without_status_is_waiting():
    assert k8s.progress(deployment(1, {})).state == "waiting"


def test_the_pin_is_read_from_annotation_and_env_together():
    pinned = k8s.pinned(deployment(3, COMPLETE, pin="3"))
    assert pinned == k8s.Pin("3", "2026-11-26T06:00:00+00:00", "2")
    assert k8s.pinned(deployment(3, COMPLETE, pin=None)) is None
    drifted = deployment(3, COMPLETE, pin="3")
    drifted["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "4"
    assert k8s.pinned(drifted) is None  # someone edited one but not the other: not ours


def test_rollback_repins_what_was_pinned_with_its_history():
    before = deployment(3, COMPLETE, pin="3")
    patch = k8s.rollback_patch(before, served_before="3", now="2026-11-26T07:00:00+00:00")
    assert patch == k8s.pin_patch(k8s.Pin("3", "2026-11-26T06:00:00+00:00", "2"))


def test_rollback_of_an_unpinned_deployment_pins_the_version_it_served():
    # Unpinned pods load production at start, which is now the failed version.
    before = deployment(3, COMPLETE, pin=None)
    patch = k8s.rollback_patch(before, served_before="2", now="2026-11-26T07:00:00+00:00")
    assert patch == k8s.pin_patch(k8s.Pin("2", "2026-11-26T07:00:00+00:00", None))


def test_rollback_with_nothing_served_before_returns_the_template_as_it_was():
    before = deployment(3, COMPLETE, pin=None)
    assert k8s.rollback_patch(before, None, "t") == k8s.unpin_patch()


@pytest.mark.parametrize("status", [NOT_OBSERVED, SURGED, NEW_READY, COMPLETE, DEADLINE])
def test_decisions_do_not_modify_the_object(status: dict[str, Any]):
    obj = deployment(3, status)
    kept = copy.deepcopy(obj)
    k8s.wait_decision(obj, 10, 5)
    k8s.pinned(obj)
    k8s.rollback_patch(obj, "1", "t")
    assert obj == kept
