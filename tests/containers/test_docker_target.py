"""The docker target for real: the serving image built from the Dockerfile, blue/green behind the
router, a real ZenML server and S3 server on loopback, every job its own process.

The story a developer lives through: deploy version 1; promote version 2 and deploy while a
client keeps calling (no request fails, the old container goes); deploy again (nothing happens);
`handoff rollback` and deploy (version 1 is back); a version that cannot serve is rolled back
while the old container keeps answering. The containers use host networking so they reach the
servers on loopback, and are removed at the end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs.deployment.targets import docker as d
from tests.containers.docker_support import DOCKER, LOCAL_BASE_IMAGE, REPO, _daemon_problem, _in_ci
from tests.harness import servers
from tests.harness.runner import WORSE, ok
from tests.harness.runner import JobRunner as Store
from tests.harness.traffic import predicted_version, traffic

pytestmark = [pytest.mark.containers, pytest.mark.timeout(3600)]

# Names of their own, so other tests on the same session servers never see these.
DATASET = "dockertarget"
MODEL = f"{DATASET}_classifier"
STACK = "docker-target"
BUCKET = "docker-target-artifacts"
ROWS = [
    {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2},
    {"sepal_length_cm": 6.7, "sepal_width_cm": 3.0, "petal_length_cm": 5.2, "petal_width_cm": 2.3},
]


@pytest.fixture(scope="module")
def docker_api() -> Any:
    problem = _daemon_problem()
    if problem:
        if _in_ci():
            pytest.fail(f"CI is set but the docker target cannot be tested: {problem}")
        pytest.skip(problem)
    import docker

    return docker.from_env()


@pytest.fixture(scope="module")
def images(docker_api: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The serving and deployment (router) images, built from the Dockerfile under a tag of this
    run's own: the `dev` tags are shared with whatever else builds on this Docker host."""
    tag = f"docker-target-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, TAG=tag, DOCKER=str(DOCKER))
    log = tmp_path_factory.mktemp("docker-target-build") / "build.log"
    scripts = [["build-images.sh", "serving", "deployment"]]
    if env.setdefault("BASE_IMAGE", LOCAL_BASE_IMAGE) == LOCAL_BASE_IMAGE:
        scripts.insert(0, ["build-base-image.sh"])  # a no-op when the base exists
    for script, *targets in scripts:
        with log.open("a") as out:
            result = subprocess.run(
                ["bash", str(REPO / "scripts" / script), *targets], cwd=REPO, env=env,
                stdout=out, stderr=subprocess.STDOUT, timeout=3000, check=False,
            )  # fmt: skip
        if result.returncode != 0:
            tail = "\n".join(Path(log).read_text().splitlines()[-40:])
            pytest.fail(f"scripts/{script} exited {result.returncode}:\n{tail}")
    built = {name: f"handoff-{name}:{tag}" for name in ("serving", "deployment")}
    yield built
    for image in built.values():
        docker_api.images.remove(image, noprune=True)


@pytest.fixture(scope="module")
def store(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Store:
    """A stack of its own on the session's servers, and version 1 of the model in production."""
    workdir = tmp_path_factory.mktemp("docker-target")
    env = servers.job_env(zenml_server, workdir / "unused-config", stack=STACK)
    store = Store({**env, "HANDOFF_DATASET": DATASET}, workdir, fresh_config=True)
    boot = {
        **servers.object_store_env(s3_server, BUCKET),
        "HANDOFF_CREATE_BUCKET": "true",
        "HANDOFF_STACK_NAME": STACK,
        "HANDOFF_ARTIFACT_STORE_NAME": f"{STACK}-s3",
        "HANDOFF_SECRET_NAME": f"{STACK}-object-store",
        "HANDOFF_ORCHESTRATOR_NAME": f"{STACK}-local",
    }
    store.env.update(boot)
    try:
        ok(store.handoff("stack", "bootstrap"))
    finally:
        for key in boot:
            del store.env[key]
    ok(store.job("feature_engineering"))
    ok(store.job("training"))
    assert store.production(MODEL) == 1
    return store


def three_free_ports() -> int:
    """A port whose next two are free as well: the router's, blue's and green's."""
    for _ in range(50):
        base = servers.free_port()
        if base + 2 > 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", base + 1))
                b.bind(("127.0.0.1", base + 2))
        except OSError:
            continue
        return base
    raise AssertionError("no three consecutive free ports on loopback")


@pytest.fixture(scope="module")
def port(docker_api: Any, images: dict[str, str]) -> Iterator[int]:
    base = three_free_ports()
    yield base
    for container in docker_api.containers.list(
        all=True, filters={"label": [f"{d.PORT}={base}", f"{d.MODEL}={MODEL}"]}
    ):
        container.remove(force=True)


@pytest.fixture(scope="module")
def deploy(images: dict[str, str]) -> Any:
    def run(store: Store, port: int, *args: str) -> Any:
        return store.job(
            "deployment", "--target", "docker", "--port", str(port),
            "--docker-image", images["serving"], "--docker-router-image", images["deployment"],
            *args,
        )  # fmt: skip

    return run


def predict(port: int) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/predict", json={"records": ROWS}, timeout=10, trust_env=False
    )
    assert response.status_code == 200, response.text
    return response.json()


def serving(docker_api: Any, port: int) -> list[Any]:
    labels = [f"{d.PORT}={port}", f"{d.MODEL}={MODEL}", f"{d.ROLE}=serving"]
    return docker_api.containers.list(all=True, filters={"label": labels})


def ids(docker_api: Any, port: int) -> set[str]:
    labels = [f"{d.PORT}={port}", f"{d.MODEL}={MODEL}"]
    return {c.id for c in docker_api.containers.list(all=True, filters={"label": labels})}


def test_deploy_serves_the_production_version(
    store: Store, port: int, docker_api: Any, deploy: Any
):
    out = ok(deploy(store, port))
    assert f"deployed {MODEL} version 1 to docker at http://127.0.0.1:{port}" in out
    answer = predict(port)
    assert answer["version"] == "1" and answer["predictions"] == ["setosa", "virginica"]

    [container] = serving(docker_api, port)
    assert container.labels[d.VERSION] == "1" and container.labels[d.SLOT] == "blue"
    attrs = container.attrs
    assert attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert attrs["Config"]["User"].split(":")[0] == "10001"  # the image's uid
    assert attrs["HostConfig"]["NetworkMode"] == "host"


def test_a_new_version_takes_over_without_a_failed_request(
    store: Store, port: int, docker_api: Any, deploy: Any
):
    ok(store.job("training", *WORSE))
    ok(store.handoff("promote", MODEL, "2"))
    [old] = serving(docker_api, port)

    with traffic(predicted_version(f"http://127.0.0.1:{port}/predict")) as calls:
        out = ok(deploy(store, port))
        calls.wait_for_answers(5)  # some answers after the switch, not a fixed sleep
    assert f"deployed {MODEL} version 2" in out and "(previously 1)" in out
    assert not calls.failures, calls.failures[:5]
    seen = calls.seen
    assert seen and seen == sorted(seen) and seen[-1] == "2", seen  # 1s, then 2s, never back

    [new] = serving(docker_api, port)
    assert new.id != old.id, "the container that served version 1 is gone"
    assert new.labels[d.VERSION] == "2" and new.labels[d.SLOT] == "green"
    assert new.labels[d.PREVIOUS] == "1"
    assert predict(port)["version"] == "2"


def test_deploying_again_changes_nothing(store: Store, port: int, docker_api: Any, deploy: Any):
    before = ids(docker_api, port)
    out = ok(deploy(store, port))
    assert "already serves" in out and "nothing to do" in out
    assert ids(docker_api, port) == before


def test_rollback_then_deploy_serves_the_previous_version_again(
    store: Store, port: int, docker_api: Any, deploy: Any
):
    out = ok(store.handoff("rollback", MODEL))
    assert "production is version 1 again (was 2)" in out
    out = ok(deploy(store, port))
    assert f"deployed {MODEL} version 1" in out
    assert predict(port)["version"] == "1"
    [container] = serving(docker_api, port)
    assert container.labels[d.VERSION] == "1" and container.labels[d.PREVIOUS] == "2"

    status = ok(store.handoff("status", "--dataset", DATASET))
    assert "docker: version 1 live since" in status and "(previously version 2)" in status
    assert f"at http://127.0.0.1:{port}; the endpoint serves version 1" in status


def test_a_version_that_cannot_serve_is_rolled_back_and_the_old_one_never_stops(
    store: Store, port: int, docker_api: Any, deploy: Any
):
    ok(store.handoff("promote", MODEL, "2"))
    before = ids(docker_api, port)
    result = deploy(store, port, "--model-artifact", "no_such_artifact")
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("deployment: deploying version 2 to docker failed (")
    assert last.endswith("; rolled back to version 1")
    assert ids(docker_api, port) == before  # the candidate is gone, version 1 untouched
    assert predict(port)["version"] == "1"

    status = ok(store.handoff("status", "--dataset", DATASET))
    assert "docker: version 1 live since" in status
    assert "last attempt: version 2 at" in status and "was rolled back" in status


def test_no_docker_daemon_fails_with_one_line(store: Store, port: int, deploy: Any):
    store.env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
    try:
        result = deploy(store, port)
    finally:
        del store.env["DOCKER_HOST"]
    assert result.returncode == 1, result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "deployment: no Docker daemon reachable at unix:///nonexistent/docker.sock"
    )
    assert len(last) < 300 and "Traceback" not in result.stderr
