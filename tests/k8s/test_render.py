"""Every overlay renders with kustomize and every object is valid Kubernetes, strictly."""

from __future__ import annotations

import kubernetes_validate
import pytest
from kubernetes_validate import utils as kv_utils
from packaging.version import Version

from .manifests import NAMESPACE, overlays, render

CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
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
    namespaces = [o for o in objects if o["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == [NAMESPACE]
    labels = namespaces[0]["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted"


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
