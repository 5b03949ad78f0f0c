"""What the k8s tests share: the contract's names, rendering overlays, walking pod templates."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.harness.jobs import JOBS

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
DOCKERFILE = REPO / "Dockerfile"
SKAFFOLD = REPO / "skaffold.yaml"
# skaffold's own published schema for apiVersion skaffold/v4beta13 (draft-07), vendored.
SKAFFOLD_SCHEMA = Path(__file__).with_name("schemas") / "skaffold-v4beta13.json"

NAMESPACE = "handoff"

BOOTSTRAP_COMMAND = ["handoff", "stack", "bootstrap"]
BOOTSTRAP = "handoff-stack-bootstrap"
# What `make images` (scripts/build-images.sh) tags the images it builds.
BUILD_SCRIPT = REPO / "scripts" / "build-images.sh"


# Environment variables of the contract.
REQUIRED_ENV = {"ZENML_STORE_URL", "ZENML_STORE_API_KEY", "ZENML_CONFIG_PATH", "HANDOFF_STACK"}
CONNECTION_ENV = REQUIRED_ENV | {
    "ZENML_ANALYTICS_OPT_IN",
    "HANDOFF_LOG_LEVEL",
    "HANDOFF_LOG_FORMAT",
}
BOOTSTRAP_ENV = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "HANDOFF_S3_PATH",
    "HANDOFF_S3_ENDPOINT_URL",
    "HANDOFF_S3_REGION",
    "HANDOFF_CREATE_BUCKET",
}
# Set on every batch job: where a job with new work starts its downstream jobs (chaining).
CHAINING_ENV = {"HANDOFF_CHAIN_VIA"}
# Set on the jobs that start others only: their own Job (downward API), which the Events about
# a failed or refused start are about.
CHAINING_UPSTREAM_ENV = {"HANDOFF_CHAIN_JOB", "HANDOFF_CHAIN_JOB_UID"}
# The jobs that start others, through the Kubernetes API, and the jobs they may start.
CHAINING_JOBS = {
    "feature_engineering": ["training"],
    "training": ["batch_inference", "deployment"],
    "monitoring": ["training"],
}
# Set on every job and the endpoint from the container's CPU limit (resourceFieldRef): read by
# BLAS, OpenMP (scikit-learn, pyarrow) and joblib, which otherwise size their pools to the node.
THREAD_ENV = {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LOKY_MAX_CPU_COUNT"}
# Set on the deployment CronJob only: its scheduled poll has nothing to do before a promotion.
DEPLOYMENT_POLL_ENV = {"HANDOFF_IDLE_WITHOUT_PRODUCTION"}
# Secrets the pods reference, with the keys the contract gives them.
SECRET_KEYS = {
    "handoff-zenml": {"api-key"},  # the batch jobs' and the bootstrap's ZenML key
    "handoff-zenml-serving": {"api-key"},  # the endpoint's own ZenML key
    "handoff-object-store": {"access-key-id", "secret-access-key"},
}


def overlays() -> list[str]:
    return sorted(
        p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file()
    )


def kubectl() -> str:
    """kubectl with its built-in kustomize (v5: components); HANDOFF_KUBECTL overrides PATH."""
    found = os.environ.get("HANDOFF_KUBECTL") or shutil.which("kubectl")
    if not found:
        raise AssertionError(
            "kubectl not found (set HANDOFF_KUBECTL or put it on PATH): the overlays are rendered "
            "with `kubectl kustomize`, which needs kubectl >= 1.27 (kustomize v5)"
        )
    return found


@functools.cache
def render_text(overlay: str) -> str:
    proc = subprocess.run(
        [kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"`kubectl kustomize k8s/overlays/{overlay}` failed:\n{proc.stderr}")
    return proc.stdout


def render_with_components(overlay: str, components: list[str], workdir: Path) -> list[dict]:
    """The overlay with k8s/components/<name> added, as an operator's own overlay would add them
    (written in `workdir`; kustomize takes only relative paths to other kustomizations)."""
    here = workdir / "kustomization"
    here.mkdir(parents=True, exist_ok=True)
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(K8S / "overlays" / overlay, here)],
        "components": [os.path.relpath(K8S / "components" / name, here) for name in components],
    }
    (here / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    proc = subprocess.run(
        [kubectl(), "kustomize", str(here)], capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"`kubectl kustomize` of {overlay} + {components} failed:\n{proc.stderr}"
        )
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def render(overlay: str) -> list[dict[str, Any]]:
    """The overlay's objects, freshly parsed (callers may modify them)."""
    return [doc for doc in yaml.safe_load_all(render_text(overlay)) if doc]


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def generated(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """A kustomize-generated object, whose rendered name carries a hash suffix."""
    matches = [
        o
        for o in objects
        if o["kind"] == kind
        and re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", o["metadata"]["name"])
    ]
    assert len(matches) == 1, f"expected one generated {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_templates(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod template(s) of a workload: Deployment/StatefulSet/Job spec.template, CronJob's
    jobTemplate's template."""
    kind = obj["kind"]
    if kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}:
        yield obj["spec"]["template"]
    elif kind == "CronJob":
        yield obj["spec"]["jobTemplate"]["spec"]["template"]
    elif kind == "Pod":
        yield {"metadata": obj["metadata"], "spec": obj["spec"]}


def job_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if obj["kind"] == "Job":
        yield obj["spec"]
    elif obj["kind"] == "CronJob":
        yield obj["spec"]["jobTemplate"]["spec"]


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if any(True for _ in pod_templates(o))]


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec.get("containers", []))


def image_name(image: str) -> str:
    """Repository path without registry host, tag or digest: 'reg:5000/a/b:1@sha256:..' -> 'a/b'."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)
    if ":" in last[-1]:
        ref = ref.rsplit(":", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts)


def project_image(image: str) -> str | None:
    """The contract image a reference names (ignoring registry, tag, digest), or None."""
    base = image_name(image).rsplit("/", 1)[-1]
    return base if base in JOBS.values() else None


def python_name(image: str) -> str:
    return {v: k for k, v in JOBS.items()}[project_image(image) or ""]


def handoff_containers(objects: list[dict[str, Any]]) -> Iterator[tuple[dict, dict, dict]]:
    """(workload, pod template, container) for every container running a project image."""
    for obj in workloads(objects):
        for template in pod_templates(obj):
            for container in containers(template["spec"]):
                if project_image(container.get("image", "")):
                    yield obj, template, container


def is_bootstrap(container: dict[str, Any]) -> bool:
    return container.get("command", [])[:3] == BOOTSTRAP_COMMAND


def dockerfile_targets() -> set[str]:
    """Stage names of `FROM <image> AS <name>` lines (case-insensitive, as Docker reads them)."""
    if not DOCKERFILE.is_file():
        wanted = sorted(image.removeprefix("handoff-") for image in JOBS.values())
        raise AssertionError(
            f"{DOCKERFILE} does not exist yet: every job image is built from one multi-stage "
            f"Dockerfile at the repo root with targets {wanted}"
        )
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return {
        m.group(1).lower()
        for m in re.finditer(r"^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$", text, re.I | re.M)
    }


def skaffold_config() -> dict[str, Any]:
    return yaml.safe_load(SKAFFOLD.read_text())


def shipped_config_keys(job: str) -> set[str]:
    """Keys of the job's shipped defaults (jobs/<job>/config.yaml) and of its cluster config."""
    keys: set[str] = set()
    for path in (REPO / "jobs" / job / "config.yaml", K8S / "base" / "config" / f"{job}.yaml"):
        if path.is_file():
            keys |= set(yaml.safe_load(path.read_text()) or {})
    return keys
