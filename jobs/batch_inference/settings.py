from __future__ import annotations

from pydantic import Field

from jobs.common.settings import JobSettings


class Settings(JobSettings):
    input: str = Field("iris", description="'iris' or a .csv/.parquet path or s3:// URI")
    output: str | None = Field(None, description="optional .csv/.parquet path or URI to write")
    model_version: str | None = Field(None, description="model version to use; null=production")
