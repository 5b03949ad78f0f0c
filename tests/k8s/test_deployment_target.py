"""The kubernetes target against the manifests it patches, and its one-line failures.

The patches are applied to the rendered serving Deployment with `kubectl patch --local` (the
API server's own strategic-merge rules, no cluster needed) and the result is validated against
the Kubernetes schema: what the job sends is what the cluster will accept and run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils
from packaging.version import Version

from jobs.common.runtime.settings import load
from jobs.deployment.settings import Settings
from jobs.deployment.targets import kubernetes_rollout as k8s
from jobs.serving.settings import Settings as ServingSettings
from tests.harness.runner import JobRunner as Store
from tests.harness.runner import ok
from tests.harness.servers import free_port, local_env

from .manifests import K8S, find, kubectl, overlays, render

CLUSTER_CONFIG = K8S / "base" / "config" / "deployment.yaml"


def downward_namespace(overlay: str) -> dict[str, str]:
    """The variables the deployment CronJob's pod gets from its own namespace (downward API)."""
    cronjob = find(render(overlay), "CronJob", "handoff-deployment")
    [job] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return {
        e["name"]: cronjob["metadata"]["namespace"]
        for e in job.get("env", [])
        if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace"
    }


def cluster_settings(overlay: str = "dev") -> Settings:
    environ = downward_namespace(overlay)
    return load(Settings, "jobs.deployment", config_file=CLUSTER_CONFIG, environ=environ)


def serving_deployment(overlay: str) -> dict[str, Any]:
    settings = cluster_settings(overlay)
    deployment = find(render(overlay), "Deployment", settings.serving_deployment)
    assert deployment["metadata"]["namespace"] == settings.namespace
    return deployment


def patch_locally(obj: dict[str, Any], patch: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    source = tmp_path / f"{obj['metadata']['name']}.json"
    source.write_text(json.dumps(obj))
    result = subprocess.run(
        [kubectl(), "patch", "--local", "-f", str(source), "--type", "strategic",
         "-p", json.dumps(patch), "-o", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def newest_schema() -> str:
    return max(kv_utils.all_versions(), key=Version)


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    [found] = [
        c
        for c in deployment["spec"]["template"]["spec"]["containers"]
        if c["name"] == k8s.CONTAINER
    ]
    return found


@pytest.mark.parametrize("overlay", overlays())
def test_the_namespace_comes_from_the_pod_not_from_the_config(overlay: str):
    """An overlay that moves handoff to another namespace needs no edit of the job's config."""
    assert "namespace" not in yaml.safe_load(CLUSTER_CONFIG.read_text())
    assert downward_namespace(overlay) == {"HANDOFF_NAMESPACE": "handoff"}


def test_the_cluster_config_selects_the_kubernetes_target():
    settings = cluster_settings()
    assert settings.target == "kubernetes"
    assert (settings.namespace, settings.serving_deployment) == ("handoff", "handoff-serving")
    assert settings.target_spec().service_url == "http://handoff-serving:8080"


@pytest.mark.parametrize("overlay", overlays())
def test_the_service_url_is_the_serving_service(overlay: str):
    url = urlparse(cluster_settings().service_url)
    service = find(render(overlay), "Service", url.hostname or "")
    assert url.port in [p["port"] for p in service["spec"]["ports"]]
    assert (
        service["spec"]["selector"].items()
        <= serving_deployment(overlay)["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_version_variable_is_the_serving_setting():
    assert "model_version" in ServingSettings.model_fields
    assert k8s.VERSION_ENV == "HANDOFF_MODEL_VERSION"


@pytest.mark.parametrize("overlay", overlays())
def test_the_pin_patch_pins_the_rendered_deployment_and_nothing_else(overlay: str, tmp_path):
    before = serving_deployment(overlay)
    assert k8s.pinned(before) is None, "the manifest itself must not pin a version"
    pin = k8s.Pin("7", "2026-11-26T06:00:00+00:00", "6")
    after = patch_locally(before, k8s.pin_patch(pin), tmp_path)

    assert k8s.pinned(after) == pin
    env_before, env_after = container(before)["env"], container(after)["env"]
    assert [e for e in env_after if e["name"] != k8s.VERSION_ENV] == env_before
    assert {"name": "HANDOFF_MODEL_VERSION", "value": "7"} in env_after
    assert after["spec"]["template"]["metadata"]["annotations"] == {
        **(before["spec"]["template"]["metadata"].get("annotations") or {}),
        "handoff.dev/model-version": "7",
    }
    # Everything else in the pod template stays as rendered (image, probes, mounts, ...).
    for key in ("image", "command", "args", "readinessProbe", "volumeMounts", "securityContext"):
        assert container(after)[key] == container(before)[key]
    assert after["spec"]["strategy"] == before["spec"]["strategy"]
    try:
        kubernetes_validate.validate(after, newest_schema(), strict=True)
    except kubernetes_validate.ValidationError as err:
        pytest.fail(f"the patched Deployment is invalid: {err.path}: {err.message}")


@pytest.mark.parametrize("overlay", overlays())
def test_pinning_again_changes_only_the_version(overlay: str, tmp_path):
    first = patch_locally(serving_deployment(overlay), k8s.pin_patch(k8s.Pin("7")), tmp_path)
    second = patch_locally(first, k8s.pin_patch(k8s.Pin("8", "t", "7")), tmp_path)
    assert k8s.pinned(second) == k8s.Pin("8", "t", "7")
    names = [e["name"] for e in container(second)["env"]]
    assert names.count(k8s.VERSION_ENV) == 1


@pytest.mark.parametrize("overlay", overlays())
def test_unpinning_restores_the_rendered_template(overlay: str, tmp_path):
    before = serving_deployment(overlay)
    pinned = patch_locally(before, k8s.pin_patch(k8s.Pin("7", "t", "6")), tmp_path)
    restored = patch_locally(pinned, k8s.unpin_patch(), tmp_path)
    assert k8s.pinned(restored) is None
    template = restored["spec"]["template"]
    rendered = before["spec"]["template"]["metadata"].get("annotations") or {}
    assert (template["metadata"].get("annotations") or {}) == rendered
    assert template["spec"] == before["spec"]["template"]["spec"]
    kept = restored["metadata"].get("annotations", {})
    assert k8s.SINCE_ANNOTATION not in kept and k8s.PREVIOUS_ANNOTATION not in kept


@pytest.mark.parametrize("overlay", overlays())
def test_the_deployer_role_allows_what_the_target_calls(overlay: str):
    """The target reads and patches one Deployment; the Role must allow exactly that one."""
    objects = render(overlay)
    settings = cluster_settings()
    cronjob = find(objects, "CronJob", "handoff-deployment")
    account = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"]
    [binding] = [
        o
        for o in objects
        if o["kind"] == "RoleBinding" and any(s["name"] == account for s in o["subjects"])
    ]
    role = find(objects, "Role", binding["roleRef"]["name"])
    rules = [r for r in role["rules"] if "deployments" in r["resources"]]
    assert any(
        {"get", "patch"} <= set(r["verbs"])
        and r.get("resourceNames") == [settings.serving_deployment]
        and "apps" in r["apiGroups"]
        for r in rules
    ), rules


# --- the job's exit codes (a real local ZenML store, a Kubernetes API that is not there) -------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Store:
    workdir = tmp_path_factory.mktemp("k8s-target")
    store = Store(local_env(workdir), workdir)
    ok(store.job("feature_engineering"))
    ok(store.job("training"))
    return store


def kubeconfig_to_nowhere(path: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "nowhere",
                "clusters": [
                    {
                        "name": "nowhere",
                        "cluster": {
                            "server": f"https://127.0.0.1:{free_port()}",
                            "insecure-skip-tls-verify": True,
                        },
                    }
                ],
                "users": [{"name": "nobody", "user": {"token": "not-a-token"}}],
                "contexts": [
                    {"name": "nowhere", "context": {"cluster": "nowhere", "user": "nobody"}}
                ],
            }
        )
    )
    return path


@pytest.mark.integration
def test_an_unreachable_kubernetes_api_fails_with_one_line(trained: Store, tmp_path: Path):
    trained.env["KUBECONFIG"] = str(kubeconfig_to_nowhere(tmp_path / "kubeconfig"))
    try:
        result = trained.job("deployment", "--config", str(CLUSTER_CONFIG))
    finally:
        del trained.env["KUBECONFIG"]
    assert result.returncode == 1, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("deployment: cannot reach the Kubernetes API at https://127.0.0.1:")
    assert "deployment handoff-serving in namespace handoff" in last and len(last) < 300
    assert "Traceback" not in result.stderr


@pytest.mark.integration
def test_no_kubernetes_credentials_is_a_config_error(trained: Store, tmp_path: Path):
    trained.env["KUBECONFIG"] = str(tmp_path / "absent")
    try:
        result = trained.job("deployment", "--config", str(CLUSTER_CONFIG))
    finally:
        del trained.env["KUBECONFIG"]
    assert result.returncode == 2, result.stderr
    assert "no Kubernetes credentials" in result.stderr.strip().splitlines()[-1]
