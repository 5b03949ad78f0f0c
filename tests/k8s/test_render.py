"""Every overlay renders with kustomize and every object is valid Kubernetes, strictly."""

from __future__ import annotations

import subprocess

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils
from packaging.version import Version

from .manifests import K8S, NAMESPACE, kubectl, overlays, render

CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    # kustomize v5.5 does not know these are cluster-scoped and gives them the overlay's
    # namespace, which the API server drops on create
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}


def supported_versions() -> list[str]:
    """The oldest (from 1.30 on) and the newest Kubernetes kubernetes-validate has schemas for."""
    known = sorted(
        {v for v in kv_utils.all_versions() if Version(v) >= Version("1.30")}, key=Version
    )
    assert known, "kubernetes-validate ships no schema for Kubernetes >= 1.30"
    return sorted({known[0], known[-1]}, key=Version)


@pytest.mark.parametrize("overlay", overlays())
def test_overlay_renders_into_the_handoff_namespace(overlay: str) -> None:
    objects = render(overlay)
    assert objects, f"k8s/overlays/{overlay} renders no objects"
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] in CLUSTER_SCOPED:
            continue
        assert meta.get("namespace") == NAMESPACE, (
            f"{obj['kind']}/{meta['name']} is not in {NAMESPACE}"
        )
    # Deleting the app (kubectl delete -k, skaffold's cleanup) must not delete the namespace,
    # nor with it the hand-made API key Secret, nor the dev data volumes.
    kinds = {o["kind"] for o in objects}
    assert "Namespace" not in kinds, f"k8s/overlays/{overlay} would delete the namespace"
    assert "PersistentVolumeClaim" not in kinds, f"k8s/overlays/{overlay} would delete the data"


def render_dir(path: str) -> list[dict]:
    proc = subprocess.run(
        [kubectl(), "kustomize", str(K8S / path)], capture_output=True, text=True, check=True
    )
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def test_the_namespace_and_the_data_volumes_are_applied_apart_from_the_app() -> None:
    [namespace] = render_dir("namespace")
    assert namespace["kind"] == "Namespace" and namespace["metadata"]["name"] == NAMESPACE
    labels = namespace["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    volumes = render_dir("platform/volumes")
    assert {v["kind"] for v in volumes} == {"PersistentVolumeClaim"}
    assert {v["metadata"]["namespace"] for v in volumes} == {NAMESPACE}
    claimed = {
        volume["persistentVolumeClaim"]["claimName"]
        for obj in render("dev")
        if obj["kind"] == "Deployment"
        for volume in obj["spec"]["template"]["spec"].get("volumes", [])
        if "persistentVolumeClaim" in volume
    }
    assert claimed == {v["metadata"]["name"] for v in volumes}
    for obj in [namespace, *volumes]:
        kubernetes_validate.validate(obj, supported_versions()[-1], strict=True)


def test_there_is_a_dev_and_a_prod_overlay() -> None:
    assert {"dev", "prod"} <= set(overlays())


@pytest.mark.parametrize("version", supported_versions())
@pytest.mark.parametrize("overlay", overlays())
def test_every_object_validates_strictly(overlay: str, version: str) -> None:
    problems = []
    for obj in render(overlay):
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            problems.append(f"{where}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            problems.append(f"{where}: {err.message}")
    assert not problems, f"k8s/overlays/{overlay} vs Kubernetes {version}:\n" + "\n".join(problems)
