from __future__ import annotations

from typing import Literal

from pydantic import Field

from jobs.common.settings import JobSettings


class Settings(JobSettings):
    target: Literal["local"] = Field("local", description="where to deploy: local")
    host: str = Field("127.0.0.1", description="local target: address of the endpoint")
    port: int = Field(8000, ge=1, le=65535, description="local target: port of the endpoint")
    state_dir: str = Field(".handoff/serving", description="local target: pid, state and logs")
    smoke_rows: int = Field(5, ge=1, description="testing rows sent to the new endpoint")
    ready_timeout_s: float = Field(120, gt=0, description="how long a new version may take")
