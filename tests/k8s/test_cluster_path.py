"""Static checks for each cluster-path fix: what failed on first contact with a cluster."""

from __future__ import annotations

from typing import Any

import pytest

from .manifests import JOBS, find, overlays, render, skaffold_config


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", overlays())
def test_no_job_in_the_manifests_so_every_apply_succeeds(overlay: str) -> None:
    """A Job's pod template is immutable: a rebuilt image (skaffold dev) or an edited config
    (ConfigMap hash) would make the next `kubectl apply` fail. One-off work is a CronJob
    template, started with `kubectl create job --from`."""
    kinds = [o["kind"] for o in render(overlay)]
    assert "Job" not in kinds


def test_the_bootstrap_is_a_template_started_after_the_api_key_exists() -> None:
    bootstrap = find(render("dev"), "CronJob", "handoff-stack-bootstrap")["spec"]
    assert bootstrap["suspend"] is True, "started by hand, once the Secret exists"
    job = bootstrap["jobTemplate"]["spec"]
    # its deadline runs from `kubectl create job`, and it creates the bucket itself
    assert job["activeDeadlineSeconds"] <= 3600
    [container] = job["template"]["spec"]["containers"]
    assert _env(container)["HANDOFF_CREATE_BUCKET"]["valueFrom"]["configMapKeyRef"]["key"] == (
        "HANDOFF_CREATE_BUCKET"
    )


def test_the_zenml_server_signs_tokens_with_one_key_and_migrates_once() -> None:
    server = find(render("dev"), "Deployment", "zenml-server")["spec"]["template"]["spec"]
    [init] = server["initContainers"]
    [main] = server["containers"]
    for container in (init, main):
        jwt = _env(container)["ZENML_SERVER_JWT_SECRET_KEY"]["valueFrom"]["secretKeyRef"]
        assert jwt == {"name": "handoff-zenml-server", "key": "jwt-secret-key"}
    assert init["command"] == ["zenml", "migrate-database"]
    assert init["image"] == main["image"]
    assert _env(main)["DISABLE_DATABASE_MIGRATION"]["value"] == "True"
    assert "DISABLE_DATABASE_MIGRATION" not in _env(init)


def test_prod_serving_survives_drains_and_node_loss() -> None:
    objects = render("prod")
    deployment = find(objects, "Deployment", JOBS["serving"])["spec"]
    assert deployment["replicas"] >= 2
    selector = deployment["selector"]["matchLabels"]
    pdb = find(objects, "PodDisruptionBudget", JOBS["serving"])["spec"]
    assert pdb["selector"]["matchLabels"] == selector
    assert pdb["minAvailable"] == deployment["replicas"] - 1
    spread = deployment["template"]["spec"]["topologySpreadConstraints"]
    hostname = [s for s in spread if s["topologyKey"] == "kubernetes.io/hostname"]
    assert hostname and hostname[0]["labelSelector"]["matchLabels"] == selector
    assert hostname[0]["whenUnsatisfiable"] == "DoNotSchedule"


@pytest.mark.parametrize("overlay", overlays())
def test_serving_drains_before_it_stops(overlay: str) -> None:
    pod = find(render(overlay), "Deployment", JOBS["serving"])["spec"]["template"]["spec"]
    [container] = pod["containers"]
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep" and 0 < int(pre_stop[1]) < pod["terminationGracePeriodSeconds"]


def test_skaffold_applies_the_namespace_and_volumes_outside_its_manifests() -> None:
    config = skaffold_config()
    hooks = [h["host"]["command"] for h in config["deploy"]["kubectl"]["hooks"]["before"]]
    assert hooks == [
        ["kubectl", "apply", "-k", "k8s/namespace"],
        ["kubectl", "apply", "-k", "k8s/platform/volumes"],
        ["bash", "scripts/dev-secrets.sh"],
    ]
    [prod] = [p for p in config["profiles"] if p["name"] == "prod"]
    # prod has no in-cluster platform: the last two go, the later first (indexes shift)
    assert prod["patches"] == [
        {"op": "remove", "path": "/deploy/kubectl/hooks/before/2"},
        {"op": "remove", "path": "/deploy/kubectl/hooks/before/1"},
    ]


@pytest.mark.parametrize("overlay", overlays())
def test_the_deployment_poll_does_not_fail_before_the_first_promotion(overlay: str) -> None:
    """Its schedule is the fallback poll; chaining starts it on every promotion. Before the first
    one it has nothing to do (exit 0, tests/integration/test_chain_events.py), not exit 3."""
    cron = find(render(overlay), "CronJob", JOBS["deployment"])["spec"]
    [container] = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert _env(container)["HANDOFF_IDLE_WITHOUT_PRODUCTION"]["value"] == "true"
    assert not cron.get("suspend", False)
