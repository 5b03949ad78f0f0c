"""The manifests and the code agree on the environment, read off the code itself.

Every variable the code reads (found in its source) is provided to the containers that need it,
and every variable the manifests set is read by the code, by ZenML, or is a settings key of that
container's job.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.k8s.manifests import (
    CHAINING_ENV,
    CHAINING_JOBS,
    CHAINING_UPSTREAM_ENV,
    REPO,
    THREAD_ENV,
    handoff_containers,
    is_bootstrap,
    overlays,
    python_name,
    render,
)

OVERLAYS = overlays()

# Read by ZenML itself, not by our code: the connection, its config dir, analytics.
READ_BY_ZENML = {
    "ZENML_STORE_URL",
    "ZENML_STORE_API_KEY",
    "ZENML_CONFIG_PATH",
    "ZENML_ANALYTICS_OPT_IN",
}
# Read by the libraries the jobs load (BLAS, OpenMP, joblib), sized from the CPU limit.
READ_BY_LIBRARIES = THREAD_ENV
# Read by our code but meaningful only outside a pod, each with its reason.
NOT_FOR_PODS = {
    "USER": "names the person in `handoff promote`/`rollback` records; a CLI-only nicety",
    "DOCKER_HOST": "the docker target on a developer's machine; not used in the cluster",
    "KUBECONFIG": "chaining outside a pod; in a pod the service account is used",
}
# Injected into every pod by the kubelet (even with enableServiceLinks: false).
PROVIDED_BY_KUBERNETES = {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}
# Injected by the Job controller into every pod of an Indexed Job (completionMode: Indexed).
PROVIDED_TO_INDEXED_JOBS = {"JOB_COMPLETION_INDEX"}
BOOTSTRAP_ONLY = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


def read_by_code() -> set[str]:
    """String literals passed to os.environ.get/[]/getenv anywhere in jobs/."""
    names: set[str] = set()
    for path in (REPO / "jobs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            target = None
            if isinstance(node, ast.Call) and node.args:
                func = ast.unparse(node.func)
                if func.endswith(("environ.get", "getenv", "environ.setdefault")):
                    target = node.args[0]
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
                target = node.slice
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                names.add(target.value)
            elif isinstance(target, ast.Name):  # a module constant such as STACK_ENV
                names |= _constant(path, target.id)
    return names


def _constant(path: Path, name: str) -> set[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Constant)
        ):
            return {node.value.value}
    return set()


def settings_env(container: dict) -> set[str]:
    if is_bootstrap(container):
        module, cls = "jobs.cli.stack", "StackSettings"
    else:
        module, cls = f"jobs.{python_name(container['image'])}.settings", "Settings"
    fields = getattr(importlib.import_module(module), cls).model_fields
    return {f"HANDOFF_{key.upper()}" for key in fields}


def test_the_scan_finds_what_the_code_reads() -> None:
    found = read_by_code()
    assert {"ZENML_STORE_URL", "HANDOFF_STACK", "HANDOFF_LOG_LEVEL"} <= found
    assert found >= BOOTSTRAP_ONLY


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_code_reads_is_provided(overlay: str) -> None:
    needed = (
        (read_by_code() | READ_BY_ZENML)
        - set(NOT_FOR_PODS)
        - PROVIDED_BY_KUBERNETES
        - PROVIDED_TO_INDEXED_JOBS
    )
    # only defaulted by our code (from HANDOFF_LOG_LEVEL/HANDOFF_LOG_FORMAT), never required
    needed -= {"ZENML_LOGGING_VERBOSITY", "ZENML_CONSOLE_LOGGING_FORMAT"}
    problems = []
    for obj, _, container in handoff_containers(render(overlay)):
        env = {e["name"] for e in container.get("env", [])}
        wanted = needed if is_bootstrap(container) else needed - BOOTSTRAP_ONLY
        if obj["kind"] != "CronJob" or is_bootstrap(container):
            wanted = wanted - CHAINING_ENV  # serving and the bootstrap start no job
        if is_bootstrap(container) or python_name(container["image"]) not in CHAINING_JOBS:
            wanted = wanted - CHAINING_UPSTREAM_ENV  # only the jobs that start others
        # the image sets ZENML_ANALYTICS_OPT_IN; the manifests need not repeat it
        if missing := wanted - env - {"ZENML_ANALYTICS_OPT_IN"}:
            problems.append(f"{obj['metadata']['name']}/{container['name']}: {sorted(missing)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_the_manifests_set_is_used(overlay: str) -> None:
    used_anywhere = read_by_code() | READ_BY_ZENML | READ_BY_LIBRARIES
    problems = []
    for obj, _, container in handoff_containers(render(overlay)):
        env = {e["name"] for e in container.get("env", [])}
        if unused := env - used_anywhere - settings_env(container):
            problems.append(f"{obj['metadata']['name']}/{container['name']}: {sorted(unused)}")
    assert not problems, "\n".join(problems)
