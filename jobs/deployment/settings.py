from __future__ import annotations

from typing import Literal

from pydantic import Field

from jobs.common.settings import JobSettings


class Settings(JobSettings):
    target: Literal["local", "docker", "kubernetes"] = Field(
        "local", description="where to deploy: local, docker or kubernetes"
    )
    host: str = Field("127.0.0.1", description="local/docker target: address of the endpoint")
    port: int = Field(
        8000,
        ge=1,
        le=65535,
        description="local/docker target: port of the endpoint (docker also uses "
        "the next two ports for its blue and green containers)",
    )
    state_dir: str = Field(".handoff/serving", description="local target: pid, state and logs")
    docker_image: str = Field("handoff-serving:dev", description="docker target: serving image")
    docker_router_image: str = Field(
        "handoff-deployment:dev",
        description="docker target: image of the router that keeps the endpoint stable",
    )
    docker_network: str = Field(
        "host", description="docker target: network mode; host reaches servers on loopback"
    )
    namespace: str = Field("handoff", description="kubernetes target: namespace")
    serving_deployment: str = Field(
        "handoff-serving", description="kubernetes target: the serving Deployment to patch"
    )
    service_url: str = Field(
        "http://handoff-serving:8080",
        description="kubernetes target: the Service, for the smoke test",
    )
    smoke_rows: int = Field(5, ge=1, description="testing rows sent to the new endpoint")
    ready_timeout_s: float = Field(120, gt=0, description="how long a new version may take")
    model_version: str | None = Field(
        None, description="deploy only if this version is (still) production; null=production"
    )
    idle_without_production: bool = Field(
        False, description="no production version yet is nothing to do (exit 0), not exit 3"
    )

    def target_spec(self) -> dict[str, object]:
        """What the pipeline's step needs to rebuild the target (plain, JSON-able values)."""
        return self.model_dump(include=TARGET_KEYS)


TARGET_KEYS = {
    "target",
    "model_name",
    "host",
    "port",
    "state_dir",
    "ready_timeout_s",
    "docker_image",
    "docker_router_image",
    "docker_network",
    "namespace",
    "serving_deployment",
    "service_url",
}
