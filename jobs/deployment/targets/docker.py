"""The docker target: blue/green serving containers on one Docker host, behind a router.

Layout, for the endpoint ``http://<host>:<port>`` of one model:

- two slots, ``blue`` on ``port + 1`` and ``green`` on ``port + 2``: a new version starts in the
  slot the live one does not use, so both can run side by side during a rollout;
- a router container on ``port`` (``python -m jobs.deployment.targets.router``) that forwards each
  connection to the slot that took the previous one, and to the other only when that one
  refuses. Clients keep one address; the switch is removing the old container, which happens
  only after the new one answered /readyz and the smoke test.

Every container is labelled (``handoff.dev/model``, ``handoff.dev/model-version``, ...), which is
how ``live`` finds them: the Docker host is the state, there is no state file. Containers run as
the image's user on a read-only root with a tmpfs at /tmp (ZenML's config goes there), no
capabilities, and
the ZenML connection from this job's environment. The default network mode ``host`` lets them
reach servers on this machine's loopback; any other must be a user-defined network, where the
router finds the slots by container name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jobs.common.runtime.connection import server_url
from jobs.common.runtime.errors import BadInput, PreconditionNotMet, Unavailable
from jobs.common.store.model_registry import now
from jobs.deployment.targets.base import Live, Release
from jobs.deployment.targets.endpoint import served_version, wait_ready, wait_serving

log = logging.getLogger("handoff")

SLOTS = ("blue", "green")
MODEL = "handoff.dev/model"
VERSION = "handoff.dev/model-version"
ROLE = "handoff.dev/role"
SLOT = "handoff.dev/slot"
PORT = "handoff.dev/port"
SINCE = "handoff.dev/since"
PREVIOUS = "handoff.dev/previous-model-version"
CONFIG = "handoff.dev/config"
ROUTER_MODULE = "jobs.deployment.targets.router"
CONNECTION_ENV = ("ZENML_STORE_API_KEY", "HANDOFF_STACK", "HANDOFF_LOG_LEVEL")
ZENML_CONFIG_PATH = "/tmp/zenml-config"  # on the tmpfs: see HARDENING
STOP_TIMEOUT_S = 10
SWITCH_TIMEOUT_S = 30.0
HARDENING: dict[str, Any] = {
    "read_only": True,
    # Docker's tmpfs takes the mode of the image's directory but not its owner, so a tmpfs on
    # the image's /zenml-config (0700, uid 10001) is root's only; /tmp (1777) suits any uid.
    "tmpfs": {"/tmp": "rw,nosuid,nodev,size=1g"},
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges"],
    "restart_policy": {"Name": "unless-stopped"},
}


@dataclass(frozen=True)
class Layout:
    """Names, ports and addresses of one model's endpoint; no Docker calls."""

    model_name: str
    host: str
    port: int
    network: str

    @property
    def host_network(self) -> bool:
        return self.network == "host"

    @property
    def reach(self) -> str:
        """The address this job (on the Docker host) uses to reach what listens on ``host``."""
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    @property
    def endpoint(self) -> str:
        return f"http://{self.reach}:{self.port}"

    def slot_port(self, slot: str) -> int:
        return self.port + 1 + SLOTS.index(slot)

    def slot_endpoint(self, slot: str) -> str:
        return f"http://{self.reach}:{self.slot_port(slot)}"

    def name(self, role: str) -> str:
        return f"handoff-{re.sub(r'[^a-zA-Z0-9_.-]', '-', self.model_name)}-{self.port}-{role}"

    def labels(self, role: str) -> dict[str, str]:
        return {MODEL: self.model_name, PORT: str(self.port), ROLE: role}

    def upstream(self, slot: str) -> str:
        host = self.reach if self.host_network else self.name(slot)
        return f"{host}:{self.slot_port(slot)}"

    def network_options(self, listen_port: int) -> dict[str, Any]:
        if self.host_network:
            return {"network_mode": "host"}
        return {
            "network": self.network,
            "ports": {f"{listen_port}/tcp": (self.host or "0.0.0.0", listen_port)},
        }


def validate(layout: Layout) -> None:
    if layout.port + len(SLOTS) > 65535:
        raise BadInput(
            f"port {layout.port} leaves no room for the blue and green ports "
            f"({layout.port + 1}, {layout.port + 2}); choose a lower port"
        )
    if layout.network in ("bridge", "none", "default"):
        raise BadInput(
            f"docker_network {layout.network!r} cannot work: the router finds the "
            "serving containers by name; use host or a user-defined network"
        )


def next_slot(live_slot: str | None) -> str:
    return SLOTS[1] if live_slot == SLOTS[0] else SLOTS[0]


def connection_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The ZenML connection a serving container needs, taken from this job's environment."""
    url = server_url(environ)
    if not url:
        raise BadInput(
            "the docker target needs a ZenML server (ZENML_STORE_URL=http...): a "
            "container cannot read this machine's local ZenML store"
        )
    env = {"ZENML_STORE_URL": url, "ZENML_CONFIG_PATH": ZENML_CONFIG_PATH}
    env.update({key: environ[key] for key in CONNECTION_ENV if environ.get(key)})
    return env


def serving_container(
    layout: Layout,
    slot: str,
    image: str,
    model_name: str,
    version: str,
    model_artifact: str,
    connection: Mapping[str, str],
    since: str,
    previous: str | None,
) -> dict[str, Any]:
    """``docker create`` arguments for the serving image in ``slot`` serving ``version``."""
    port = layout.slot_port(slot)
    labels = {**layout.labels("serving"), VERSION: version, SLOT: slot, SINCE: since}
    if previous:
        labels[PREVIOUS] = previous
    return {
        "image": image,
        "name": layout.name(slot),
        "labels": labels,
        "environment": {
            **connection,
            "HANDOFF_MODEL_NAME": model_name,
            "HANDOFF_MODEL_VERSION": version,
            "HANDOFF_MODEL_ARTIFACT": model_artifact,
            "HANDOFF_HOST": layout.host if layout.host_network else "0.0.0.0",
            "HANDOFF_PORT": str(port),
        },
        **layout.network_options(port),
        **HARDENING,
    }


def router_container(layout: Layout, image: str) -> dict[str, Any]:
    """``docker create`` arguments for the router in front of both slots."""
    listen = f"{layout.host if layout.host_network else '0.0.0.0'}:{layout.port}"
    command = ["--listen", listen]
    for slot in SLOTS:
        command += ["--upstream", layout.upstream(slot)]
    config = hashlib.sha256(json.dumps([image, command, layout.network]).encode()).hexdigest()
    return {
        "image": image,
        "name": layout.name("router"),
        "labels": {**layout.labels("router"), CONFIG: config[:16]},
        "entrypoint": ["python", "-m", ROUTER_MODULE],
        "command": command,
        **layout.network_options(layout.port),
        **HARDENING,
    }


@dataclass(frozen=True)
class DockerPlan:
    """The slot the release starts in, and what its container is created with."""

    release: Release
    slot: str
    container: dict[str, Any]
    """``docker create`` arguments (see ``serving_container``)."""


@dataclass
class DockerTarget:
    model_name: str
    host: str
    port: int
    image: str
    router_image: str
    network: str
    ready_timeout_s: float
    kind: str = "docker"

    @property
    def layout(self) -> Layout:
        return Layout(self.model_name, self.host, self.port, self.network)

    @property
    def endpoint(self) -> str:
        return self.layout.endpoint

    def live(self) -> Live | None:
        validate(self.layout)
        connection_env(os.environ)  # a config problem: say so before anything else
        running = self._running("serving")
        if not running:
            return None
        # The oldest: a newer one is a rollout that never switched (the job died mid-way).
        current = running[0]
        version = current.labels[VERSION]
        answers = served_version(self.layout.slot_endpoint(current.labels[SLOT])) == version
        steady = answers and len(running) == 1 and bool(self._running("router"))
        return Live(
            version,
            self.endpoint,
            current.labels.get(SINCE),
            current.labels.get(PREVIOUS),
            steady=steady,
        )

    def prepare(self, release: Release) -> DockerPlan:
        """The slot the live container does not use; its history labels carried over."""
        connection = connection_env(os.environ)
        running = self._running("serving")
        live = running[0] if running else None
        slot = next_slot(live.labels[SLOT] if live else None)
        previous = live.labels[VERSION] if live else None
        if previous == release.version:
            previous = live.labels.get(PREVIOUS) if live else None
        container = serving_container(
            self.layout,
            slot,
            self.image,
            release.model_name,
            release.version,
            release.model_artifact,
            connection,
            now(),
            previous,
        )
        return DockerPlan(release, slot, container)

    def deploy(self, plan: DockerPlan) -> str:
        for container in self._containers("serving"):
            if container.labels.get(SLOT) == plan.slot or container.status != "running":
                self._remove(container)  # what a failed or interrupted rollout left behind
        name = plan.container["name"]
        candidate = self._start(plan.container)
        endpoint = self.layout.slot_endpoint(plan.slot)
        log.info("started %s (version %s) at %s", name, plan.release.version, endpoint)
        try:
            wait_ready(
                endpoint,
                self.ready_timeout_s,
                alive=lambda: _status(candidate) in ("created", "running"),
            )
        except Unavailable as err:
            if _status(candidate) in ("created", "running"):
                raise
            raise Unavailable(f"{name} exited before it was ready: {_last_log(candidate)}") from err
        return endpoint

    def switch(self, plan: DockerPlan) -> None:
        candidate = self._candidate(plan)
        if candidate is None:
            raise RuntimeError(f"no container {plan.container['name']} to switch to")
        self._ensure_router()
        for container in self._containers("serving"):
            if container.id != candidate.id:
                log.info("removing %s (version %s)", container.name, container.labels[VERSION])
                self._remove(container)
        wait_serving(self.endpoint, plan.release.version, SWITCH_TIMEOUT_S)

    def restore(self, before: Live | None, release: Release, plan: DockerPlan | None) -> None:
        candidate = self._candidate(plan) if plan is not None else None
        if candidate is not None:
            self._remove(candidate)
        if before is None:
            self.stop()
            return
        if any(c.labels[VERSION] == before.version for c in self._running("serving")):
            self._ensure_router()  # the old container never stopped serving
            return
        # The old container is gone already (the switch itself failed): bring its version back.
        back = self.prepare(Release(release.model_name, before.version, release.model_artifact))
        self.deploy(back)
        self.switch(back)

    def stop(self) -> None:
        for role in ("serving", "router"):
            for container in self._containers(role):
                self._remove(container)

    # --- Docker calls ------------------------------------------------------------------------

    @cached_property
    def _docker(self) -> Any:
        """The client, connected on first use (building a target touches no daemon)."""
        import docker

        where = os.environ.get("DOCKER_HOST") or "the default socket"
        try:
            client = docker.from_env(timeout=30)
            client.ping()
        except docker.errors.DockerException as err:
            raise Unavailable(
                f"no Docker daemon reachable at {where}: {_reason(err)}; "
                "start Docker or set DOCKER_HOST"
            ) from err
        return client

    def _candidate(self, plan: DockerPlan) -> Any | None:
        """The container ``deploy`` started for ``plan``, found by its name, if it exists."""
        found = [c for c in self._containers("serving") if c.name == plan.container["name"]]
        return found[0] if found else None

    def _containers(self, role: str) -> list[Any]:
        labels = [f"{k}={v}" for k, v in self.layout.labels(role).items()]
        found = self._docker.containers.list(all=True, filters={"label": labels})
        return sorted(found, key=lambda c: c.attrs.get("Created", ""))

    def _running(self, role: str) -> list[Any]:
        return [c for c in self._containers(role) if c.status == "running"]

    def _start(self, spec: dict[str, Any]) -> Any:
        from docker.errors import ImageNotFound

        try:
            self._docker.images.get(spec["image"])
        except ImageNotFound as err:
            raise PreconditionNotMet(
                f"image {spec['image']} is not on the Docker host; build "
                "it (scripts/build-images.sh) or set the image"
            ) from err
        container = self._docker.containers.create(**spec)
        container.start()
        container.reload()
        return container

    def _ensure_router(self) -> None:
        spec = router_container(self.layout, self.router_image)
        for container in self._containers("router"):
            if container.labels.get(CONFIG) == spec["labels"][CONFIG]:
                if container.status != "running":
                    container.start()
                return
            self._remove(container)  # another image, port or network: replace it
        log.info("starting %s on %s", spec["name"], self.endpoint)
        self._start(spec)

    def _remove(self, container: Any) -> None:
        from docker.errors import NotFound

        try:
            if container.status == "running":
                container.stop(timeout=STOP_TIMEOUT_S)  # SIGTERM: in-flight requests finish
            container.remove(force=True)
        except NotFound:
            pass


def _status(container: Any) -> str:
    try:
        container.reload()
    except Exception:  # noqa: BLE001 - gone is as good as exited
        return "gone"
    return str(container.status)


def _last_log(container: Any) -> str:
    try:
        lines = container.logs(tail=20).decode(errors="replace").strip().splitlines()
    except Exception:  # noqa: BLE001 - the logs are a courtesy
        return "no logs"
    wanted = [line for line in lines if "handoff:" in line or "Error" in line]
    return (wanted or lines or ["no logs"])[-1].strip()[:300]


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__
