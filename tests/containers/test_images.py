"""Build the real job images and check what a cluster would notice about them.

The images are built once per session with scripts/build-images.sh (BuildKit, Debian's docker
client). Without a reachable Docker daemon the module is skipped, unless CI is set: there a
missing daemon is a failure, so a green CI run always means the images were built and checked.

Settings: DOCKER (client binary), BASE_IMAGE (base image build-arg; the local default
handoff-base:py3.11 is built with scripts/build-base-image.sh when missing), CA_BUNDLE.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from tests.containers.docker_support import (
    REPO,
    SECRET_ENV_NAMES,
    SECRET_LOOKING_KEY,
    SIZE_BUDGET_BYTES,
    UID,
    docker,
    run_restricted,
)
from tests.harness.jobs import JOBS, job_of_target
from tests.harness.jobs import target as target_of

pytestmark = [pytest.mark.containers, pytest.mark.timeout(3600)]


def image_config(tag: str) -> dict:
    return json.loads(docker("image", "inspect", tag).stdout)[0]["Config"]


@pytest.fixture(params=[target_of(job) for job in JOBS], scope="session")
def target(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def image(images, target) -> str:
    return images[target]


def test_entrypoint_is_the_jobs_module(image, target):
    config = image_config(image)
    assert config["Entrypoint"] == ["python", "-m", f"jobs.{job_of_target(target)}"]
    if target == "serving":
        assert "8080/tcp" in (config.get("ExposedPorts") or {})


def test_runs_as_fixed_non_root_uid(image):
    assert image_config(image)["User"].split(":")[0] == UID
    ids = "import os; print(os.getuid(), os.getgid())"
    result = run_restricted(image, "-c", ids, entrypoint="python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [UID, UID]


# What the jobs import when they run (their `--help` imports none of it): every pipeline with its
# steps, the serving app, parquet and the S3 artifact store; the Dockerfile drops files from these.
RUN_TIME_IMPORTS = (
    "import jobs.feature_engineering.pipeline, jobs.training.pipeline, "
    "jobs.batch_inference.pipeline, jobs.deployment.pipeline, jobs.serving.app, "
    "pyarrow.parquet, pyarrow.dataset, pyarrow.fs, s3fs, "
    "zenml.integrations.s3.artifact_stores.s3_artifact_store"
)


def test_imports_on_read_only_root_without_capabilities(image):
    result = run_restricted(image, "-c", RUN_TIME_IMPORTS, entrypoint="python")
    assert result.returncode == 0, result.stderr[-3000:]


def test_job_cli_starts_on_read_only_root(image, target):
    package = job_of_target(target)
    if not (REPO / "jobs" / package / "__main__.py").exists():
        pytest.skip(f"jobs/{package}/__main__.py not written yet")
    # --help parses flags and exits before any ZenML connection: proves the ENTRYPOINT, the
    # installed package and its imports work as the pod would run them.
    result = run_restricted(image, "--help")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--config" in result.stdout
    if (REPO / "jobs" / package / "config.yaml").exists():
        probe = (
            "import importlib.resources as r\n"
            f"print((r.files('jobs.{package}') / 'config.yaml').is_file())"
        )
        shipped = run_restricted(image, "-c", probe, entrypoint="python")
        assert shipped.stdout.strip() == "True", f"config.yaml missing: {shipped.stderr[-2000:]}"


def test_console_scripts_start_on_read_only_root(image):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"].get("scripts", {})
    assert "handoff" in scripts, "the contract promises a `handoff` command in every image"
    for name, target in scripts.items():
        module = REPO.joinpath(*target.split(":")[0].split("."))
        if not (module.with_suffix(".py").exists() or (module / "__init__.py").exists()):
            pytest.skip(f"{target} (the `{name}` command) not written yet")
        result = run_restricted(image, "--help", entrypoint=name)
        assert result.returncode == 0, f"{name} --help: {result.stderr[-3000:]}"


def _lock_closure(lock: dict, roots: list[dict]) -> set[str]:
    """Every package reachable from roots in uv.lock (markers ignored: a superset)."""
    packages = {p["name"]: p for p in lock["package"]}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        dep = todo.pop()
        name = dep["name"]
        package = packages[name]
        edges = [] if name in seen else list(package.get("dependencies", []))
        for extra in dep.get("extra", []):
            edges += package.get("optional-dependencies", {}).get(extra, [])
        seen.add(name)
        todo += edges
    return seen


def test_test_only_packages_are_not_installed(image):
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    name = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["name"]
    project = next(p for p in lock["package"] if p["name"] == name)
    runtime = _lock_closure(lock, project.get("dependencies", []))
    test_only = _lock_closure(lock, project["optional-dependencies"]["test"]) - runtime
    assert {"moto", "sqlmodel"} <= test_only, "uv.lock no longer looks like the test extra"

    names = "import importlib.metadata as m\nfor d in m.distributions(): print(d.metadata['Name'])"
    listing = run_restricted(image, "-c", names, entrypoint="python")
    assert listing.returncode == 0, listing.stderr
    installed = {re.sub(r"[-_.]+", "-", n).lower() for n in listing.stdout.split()}
    assert "zenml" in installed
    assert sorted(installed & test_only) == []


def test_no_secrets_in_config_history_or_files(image):
    env = dict(item.split("=", 1) for item in image_config(image).get("Env") or [])
    assert [k for k in env if SECRET_LOOKING_KEY.search(k)] == []
    assert not any("/run/secrets" in v for v in env.values())

    history = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    assert "BEGIN CERTIFICATE" not in history
    for name in SECRET_ENV_NAMES:
        value = os.environ.get(name)
        if value:
            assert value not in history, f"the value of {name} is in the image history"

    # The CA bundle passed as a build secret must not have been copied anywhere in the image.
    ca = Path(os.environ.get("CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))
    script = "test ! -e /run/secrets/ca || echo /run/secrets/ca"
    if ca.is_file():
        size = ca.stat().st_size
        script += f"; find / -xdev -type f -size {size}c -exec sha256sum {{}} +"
    # As root with the one capability that reads every directory, so none is left out.
    search_everywhere = ("--user", "0", "--cap-add", "DAC_READ_SEARCH")
    result = run_restricted(image, "-c", script, entrypoint="sh", extra=search_everywhere)
    assert result.returncode == 0, result.stderr
    assert "/run/secrets/ca" not in result.stdout.split()
    if ca.is_file():
        digest = hashlib.sha256(ca.read_bytes()).hexdigest()
        assert digest not in result.stdout, f"a copy of {ca} is in the image:\n{result.stdout}"


def test_image_size_within_budget(images, target, record_property):
    size = int(docker("image", "inspect", "--format", "{{.Size}}", images[target]).stdout)
    record_property("image", images[target])
    record_property("size_bytes", size)
    assert size < SIZE_BUDGET_BYTES, f"{images[target]} is {size / 1e6:.0f} MB"
