"""The images, built once per session for every container test module."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.containers.docker_support import (
    DOCKER,
    LOCAL_BASE_IMAGE,
    TAG_PREFIX,
    _daemon_problem,
    _in_ci,
    _run_script,
    docker,
)
from tests.harness.jobs import JOBS, target


@pytest.fixture(scope="session")
def images(request, tmp_path_factory, record_testsuite_property) -> Iterator[dict[str, str]]:
    """Build every target once, under this session's own tag; yield Dockerfile target name ->
    image tag, and untag them afterwards (the layers stay in the build cache)."""
    problem = _daemon_problem()
    if problem:
        if _in_ci():
            pytest.fail(f"CI is set but the container tests cannot run: {problem}")
        pytest.skip(problem)

    session_tag = f"{TAG_PREFIX}-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, TAG=session_tag, DOCKER=DOCKER)
    logs = tmp_path_factory.mktemp("image-builds")
    base = env.setdefault("BASE_IMAGE", LOCAL_BASE_IMAGE)
    if base == LOCAL_BASE_IMAGE:
        # No-op when the base exists; otherwise needs root + debootstrap (start-dockerd.sh).
        _run_script("build-base-image.sh", logs / "base.log", env, timeout=1800)
    seconds = _run_script("build-images.sh", logs / "images.log", env, timeout=3000)

    tags = {target(job): f"{image}:{session_tag}" for job, image in JOBS.items()}
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    record_testsuite_property("image_build_seconds", round(seconds, 1))
    lines = [f"built {len(tags)} images in {seconds:.0f}s (base {base})"]
    for name, tag in tags.items():
        size = int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        record_testsuite_property(f"image_size_bytes[{name}]", size)
        lines.append(f"  {tag:<36} {size / 1e6:7.0f} MB")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        # Sizes are part of the result: shown even under -q, outside pytest's output capture.
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in lines:
                reporter.write_line(f"containers: {line}")
    yield tags
    docker("image", "rm", "--no-prune", *tags.values(), check=False)
