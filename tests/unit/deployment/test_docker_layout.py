"""The docker target's containers as `docker create` would get them, without a Docker daemon."""

from __future__ import annotations

import pytest

from jobs.common.runtime.errors import BadInput
from jobs.deployment.factory import make_target
from jobs.deployment.settings import Settings
from jobs.deployment.targets import docker as d

SERVER = {
    "ZENML_STORE_URL": "http://127.0.0.1:8237",
    "ZENML_STORE_API_KEY": "key",
    "HANDOFF_STACK": "handoff",
    "AWS_SECRET_ACCESS_KEY": "not for serving",
    "HOME": "/root",
    "PATH": "/usr/bin",
}


def serving(layout: d.Layout, slot: str = "blue", previous: str | None = "1") -> dict:
    return d.serving_container(
        layout,
        slot,
        "handoff-serving:dev",
        "iris_classifier",
        "2",
        "trained_model",
        d.connection_env(SERVER),
        "2026-11-26T06:00:00+00:00",
        previous,
    )


def test_blue_and_green_take_turns_on_their_own_ports():
    layout = d.Layout("iris_classifier", "127.0.0.1", 8000, "host")
    assert d.next_slot(None) == "blue"
    assert d.next_slot("blue") == "green"
    assert d.next_slot("green") == "blue"
    assert {layout.slot_port("blue"), layout.slot_port("green")} == {8001, 8002}
    assert layout.endpoint == "http://127.0.0.1:8000"
    assert layout.slot_endpoint("green") == "http://127.0.0.1:8002"


def test_serving_container_serves_the_version_on_its_slot_port_hardened():
    spec = serving(d.Layout("iris_classifier", "127.0.0.1", 8000, "host"), "green")
    env = spec["environment"]
    assert env["HANDOFF_MODEL_VERSION"] == "2" and env["HANDOFF_PORT"] == "8002"
    assert env["HANDOFF_HOST"] == "127.0.0.1"  # host network: listen on loopback only
    assert env["HANDOFF_MODEL_NAME"] == "iris_classifier"
    assert env["ZENML_STORE_URL"] == "http://127.0.0.1:8237"
    assert env["ZENML_STORE_API_KEY"] == "key" and env["HANDOFF_STACK"] == "handoff"
    assert env["ZENML_CONFIG_PATH"].startswith("/tmp/")  # the tmpfs
    assert "AWS_SECRET_ACCESS_KEY" not in env and "HOME" not in env
    assert spec["network_mode"] == "host" and "ports" not in spec
    assert spec["read_only"] is True and spec["cap_drop"] == ["ALL"]
    assert "/tmp" in spec["tmpfs"] and "user" not in spec  # the image's uid
    assert spec["labels"] == {
        d.MODEL: "iris_classifier",
        d.PORT: "8000",
        d.ROLE: "serving",
        d.VERSION: "2",
        d.SLOT: "green",
        d.SINCE: "2026-11-26T06:00:00+00:00",
        d.PREVIOUS: "1",
    }
    assert spec["name"] == "handoff-iris_classifier-8000-green"


def test_the_first_version_has_no_previous_label():
    spec = serving(d.Layout("iris_classifier", "127.0.0.1", 8000, "host"), previous=None)
    assert d.PREVIOUS not in spec["labels"]


def test_router_forwards_the_stable_port_to_both_slots():
    layout = d.Layout("iris_classifier", "127.0.0.1", 8000, "host")
    spec = d.router_container(layout, "handoff-deployment:dev")
    assert spec["entrypoint"] == ["python", "-m", "jobs.deployment.targets.router"]
    assert spec["command"] == [
        "--listen",
        "127.0.0.1:8000",
        "--upstream",
        "127.0.0.1:8001",
        "--upstream",
        "127.0.0.1:8002",
    ]
    assert spec["labels"][d.ROLE] == "router" and spec["network_mode"] == "host"
    other = d.router_container(
        d.Layout("iris_classifier", "127.0.0.1", 9000, "host"), "handoff-deployment:dev"
    )
    assert other["labels"][d.CONFIG] != spec["labels"][d.CONFIG]  # changed: replaced


def test_a_user_defined_network_publishes_ports_and_routes_by_container_name():
    layout = d.Layout("iris_classifier", "127.0.0.1", 8000, "handoff-net")
    spec = serving(layout, "blue")
    assert spec["network"] == "handoff-net" and "network_mode" not in spec
    assert spec["ports"] == {"8001/tcp": ("127.0.0.1", 8001)}
    assert spec["environment"]["HANDOFF_HOST"] == "0.0.0.0"  # inside its own namespace
    router = d.router_container(layout, "handoff-deployment:dev")
    assert router["ports"] == {"8000/tcp": ("127.0.0.1", 8000)}
    assert router["command"] == [
        "--listen",
        "0.0.0.0:8000",
        "--upstream",
        "handoff-iris_classifier-8000-blue:8001",
        "--upstream",
        "handoff-iris_classifier-8000-green:8002",
    ]


def test_listening_everywhere_is_reached_on_loopback():
    layout = d.Layout("iris_classifier", "0.0.0.0", 8000, "host")
    assert layout.endpoint == "http://127.0.0.1:8000"
    assert d.router_container(layout, "x")["command"][:2] == ["--listen", "0.0.0.0:8000"]


@pytest.mark.parametrize("network", ["bridge", "none"])
def test_networks_without_container_names_are_refused(network: str):
    with pytest.raises(BadInput, match="user-defined network"):
        d.validate(d.Layout("iris_classifier", "127.0.0.1", 8000, network))


def test_the_top_ports_leave_no_room_for_two_slots():
    with pytest.raises(BadInput, match="blue and green"):
        d.validate(d.Layout("iris_classifier", "127.0.0.1", 65534, "host"))


def test_a_container_cannot_use_the_local_store():
    with pytest.raises(BadInput, match="needs a ZenML server"):
        d.connection_env({"ZENML_STORE_URL": "sqlite:////root/.config/zenml/db.sqlite"})
    with pytest.raises(BadInput, match="needs a ZenML server"):
        d.connection_env({})


def test_settings_describe_the_docker_target():
    target = make_target(Settings(target="docker", port=9000).target_spec())
    assert isinstance(target, d.DockerTarget)
    assert (target.model_name, target.port) == ("iris_classifier", 9000)
    assert (target.image, target.network) == ("handoff-serving:dev", "host")
    assert target.router_image == "handoff-deployment:dev"
