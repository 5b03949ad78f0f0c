from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from jobs.common.runtime.settings import JobSettings
from jobs.deployment.factory import Kind, TargetSpec


class Parameters(BaseModel):
    """Everything the deployment pipeline and its step take: one object, built once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    target: TargetSpec
    model_artifact: str
    testing_dataset: str
    target_column: str
    """Of the production version's training data: dropped from the smoke-test rows."""
    smoke_rows: int


class Settings(JobSettings):
    target: Kind = Field("local", description="where to deploy: local, docker or kubernetes")
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

    def target_spec(self) -> TargetSpec:
        """The settings every target is built from: the spec's own fields, read off these."""
        keys = set(TargetSpec.model_fields) - {"kind"}
        return TargetSpec(kind=self.target, **self.model_dump(include=keys))

    def parameters(self, target: TargetSpec, target_column: str) -> Parameters:
        return Parameters(
            target=target,
            model_artifact=self.model_artifact,
            testing_dataset=self.testing_dataset,
            target_column=target_column,
            smoke_rows=self.smoke_rows,
        )
