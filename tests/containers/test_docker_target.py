"""The docker target for real: the serving image built from the Dockerfile, blue/green behind the
router, a real ZenML server and S3 server on loopback, every job its own process.

The story a developer lives through: deploy version 1; promote version 2 and deploy while a
client keeps calling (no request fails, the old container goes); deploy again (nothing happens);
`handoff rollback` and deploy (version 1 is back); a version that cannot serve is rolled back
while the old container keeps answering. Each test first brings the endpoint to the state its
story starts from (`serve`), so it also passes alone; after the tests before it, that is mostly
a deployment with nothing to do. The containers use host networking so they reach the servers
on loopback, and are removed at the end.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jobs.deployment.targets import docker as d
from tests.containers.docker_support import _daemon_problem, _in_ci
from tests.harness import iris, servers
from tests.harness.runner import WORSE, JobRunner, bootstrap_stack, last_line, ok, server_runner
from tests.harness.traffic import predicted_version, traffic

pytestmark = [pytest.mark.containers, pytest.mark.timeout(3600)]

# Names of their own, so other tests on the same session servers never see these.
DATASET = "dockertarget"
MODEL = f"{DATASET}_classifier"
STACK = "docker-target"
BUCKET = "docker-target-artifacts"


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
def store(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> JobRunner:
    """A stack of its own on the session's servers; version 1 of the model in production and a
    worse version 2 in staging."""
    workdir = tmp_path_factory.mktemp("docker-target")
    runner = server_runner(zenml_server, workdir, stack=STACK).with_env(HANDOFF_DATASET=DATASET)
    bootstrap_stack(
        runner,
        s3_server,
        BUCKET,
        HANDOFF_CREATE_BUCKET="true",
        HANDOFF_STACK_NAME=STACK,
        HANDOFF_ARTIFACT_STORE_NAME=f"{STACK}-s3",
        HANDOFF_SECRET_NAME=f"{STACK}-object-store",
        HANDOFF_ORCHESTRATOR_NAME=f"{STACK}-local",
    )
    ok(runner.job("feature_engineering"))
    ok(runner.job("training"))
    ok(runner.job("training", *WORSE))
    assert runner.stages(MODEL) == {1: "production", 2: "staging"}
    return runner


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
    """The deployment job onto the docker target, with the images the shared fixture built."""

    def run(store: JobRunner, port: int, *args: str) -> Any:
        return store.job(
            "deployment", "--target", "docker", "--port", str(port),
            "--docker-image", images["serving"], "--docker-router-image", images["deployment"],
            *args,
        )  # fmt: skip

    return run


def predict(port: int) -> dict[str, Any]:
    response = httpx.post(
        f"http://127.0.0.1:{port}/predict", json={"records": iris.ROWS}, timeout=10, trust_env=False
    )
    assert response.status_code == 200, response.text
    return response.json()


def serve(store: JobRunner, port: int, deploy: Any, version: str) -> None:
    """Production is `version` and the endpoint serves it."""
    if store.production(MODEL) != int(version):
        ok(store.handoff("promote", MODEL, version))
    ok(deploy(store, port))
    assert predict(port)["version"] == version


def serving(docker_api: Any, port: int) -> list[Any]:
    labels = [f"{d.PORT}={port}", f"{d.MODEL}={MODEL}", f"{d.ROLE}=serving"]
    return docker_api.containers.list(all=True, filters={"label": labels})


def ids(docker_api: Any, port: int) -> set[str]:
    labels = [f"{d.PORT}={port}", f"{d.MODEL}={MODEL}"]
    return {c.id for c in docker_api.containers.list(all=True, filters={"label": labels})}


def test_deploy_serves_the_production_version(
    store: JobRunner, port: int, docker_api: Any, deploy: Any
):
    if store.production(MODEL) != 1:
        ok(store.handoff("promote", MODEL, "1"))
    out = ok(deploy(store, port))
    assert f"deployed {MODEL} version 1 to docker at http://127.0.0.1:{port}" in out
    answer = predict(port)
    assert answer["version"] == "1" and answer["predictions"] == iris.SPECIES

    [container] = serving(docker_api, port)
    assert container.labels[d.VERSION] == "1" and container.labels[d.SLOT] == "blue"
    attrs = container.attrs
    assert attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert attrs["Config"]["User"].split(":")[0] == "10001"  # the image's uid
    assert attrs["HostConfig"]["NetworkMode"] == "host"


def test_a_new_version_takes_over_without_a_failed_request(
    store: JobRunner, port: int, docker_api: Any, deploy: Any
):
    serve(store, port, deploy, "1")
    ok(store.handoff("promote", MODEL, "2"))
    [old] = serving(docker_api, port)

    with traffic(predicted_version(f"http://127.0.0.1:{port}/predict")) as seen:
        out = ok(deploy(store, port))
        seen.wait_for_answers(3)  # answers after the switch, too
    assert f"deployed {MODEL} version 2" in out and "(previously 1)" in out
    assert not seen.failures, seen.failures[:5]
    assert seen.seen and seen.seen == sorted(seen.seen) and seen.seen[-1] == "2", seen.seen

    [new] = serving(docker_api, port)
    assert new.id != old.id, "the container that served version 1 is gone"
    assert new.labels[d.VERSION] == "2" and new.labels[d.SLOT] != old.labels[d.SLOT]
    assert new.labels[d.PREVIOUS] == "1"
    assert predict(port)["version"] == "2"


def test_deploying_again_changes_nothing(store: JobRunner, port: int, docker_api: Any, deploy: Any):
    ok(deploy(store, port))  # whatever is production is served
    before = ids(docker_api, port)
    out = ok(deploy(store, port))
    assert "already serves" in out and "nothing to do" in out
    assert ids(docker_api, port) == before


def test_rollback_then_deploy_serves_the_previous_version_again(
    store: JobRunner, port: int, docker_api: Any, deploy: Any
):
    serve(store, port, deploy, "1")
    serve(store, port, deploy, "2")  # promoted over version 1: what rollback goes back to
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
    store: JobRunner, port: int, docker_api: Any, deploy: Any
):
    serve(store, port, deploy, "1")
    ok(store.handoff("promote", MODEL, "2"))
    before = ids(docker_api, port)
    result = deploy(store, port, "--model-artifact", "no_such_artifact")
    assert result.returncode == 1, result.stdout + result.stderr
    last = last_line(result)
    assert last.startswith("deployment: deploying version 2 to docker failed (")
    assert last.endswith("; rolled back to version 1")
    assert ids(docker_api, port) == before  # the candidate is gone, version 1 untouched
    assert predict(port)["version"] == "1"

    status = ok(store.handoff("status", "--dataset", DATASET))
    assert "docker: version 1 live since" in status
    assert "last attempt: version 2 at" in status and "was rolled back" in status


def test_no_docker_daemon_fails_with_one_line(store: JobRunner, port: int, deploy: Any):
    result = deploy(store.with_env(DOCKER_HOST="unix:///nonexistent/docker.sock"), port)
    assert result.returncode == 1, result.stdout + result.stderr
    last = last_line(result)
    assert last.startswith(
        "deployment: no Docker daemon reachable at unix:///nonexistent/docker.sock"
    )
    assert len(last) < 300 and "Traceback" not in result.stderr
