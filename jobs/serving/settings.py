from __future__ import annotations

from pydantic import Field

from jobs.common.runtime.settings import JobSettings


class Settings(JobSettings):
    host: str = Field("0.0.0.0", description="address to listen on")
    port: int = Field(8080, ge=1, le=65535, description="port to listen on")
    model_version: str | None = Field(None, description="version to serve; null = production")
    load_deadline_s: float = Field(
        600.0,
        gt=0,
        description="seconds without a loaded model (failed loads are retried) after which "
        "/healthz fails, so that Kubernetes restarts the pod",
    )
