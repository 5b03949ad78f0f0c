"""The one place that knows every target: a typed ``TargetSpec`` in, the ``Target`` it names out.

It lives above the targets (``jobs.deployment.targets``), which never import it. Building a
target is cheap and touches nothing: no process, container, daemon or API is reached until the
target is asked something, so the job builds it once, first, and every check after that runs
on the target's own path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from jobs.deployment.targets.base import Target
from jobs.deployment.targets.docker import DockerTarget
from jobs.deployment.targets.kubernetes import KubernetesTarget
from jobs.deployment.targets.local import LocalTarget

Kind = Literal["local", "docker", "kubernetes"]
KINDS: tuple[Kind, ...] = ("local", "docker", "kubernetes")


class TargetSpec(BaseModel):
    """Where to deploy and how to reach it; a step parameter (JSON-able), built from settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    model_name: str
    host: str
    port: int
    state_dir: str
    ready_timeout_s: float
    docker_image: str
    docker_router_image: str
    docker_network: str
    namespace: str
    serving_deployment: str
    service_url: str


def make_target(spec: TargetSpec) -> Target[Any]:
    if spec.kind == "local":
        return LocalTarget(
            spec.host, spec.port, Path(spec.state_dir).absolute(), spec.ready_timeout_s
        )
    if spec.kind == "docker":
        return DockerTarget(
            model_name=spec.model_name,
            host=spec.host,
            port=spec.port,
            image=spec.docker_image,
            router_image=spec.docker_router_image,
            network=spec.docker_network,
            ready_timeout_s=spec.ready_timeout_s,
        )
    return KubernetesTarget(
        namespace=spec.namespace,
        deployment=spec.serving_deployment,
        service_url=spec.service_url.rstrip("/"),
        ready_timeout_s=spec.ready_timeout_s,
    )
