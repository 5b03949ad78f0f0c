from __future__ import annotations

from pydantic import Field

from jobs.common.chaining import Downstream
from jobs.common.settings import JobSettings


class Settings(JobSettings):
    source: str = Field("iris", description="'iris' or a .csv/.parquet path or s3:// URI")
    target_column: str = Field("species", description="the label column of the source table")
    test_size: float = Field(0.2, gt=0, lt=1, description="fraction of rows for testing")
    random_state: int = Field(42, description="seed of the split")
    version: str | None = Field(None, description="custom version name, e.g. raw_2023")
    tags: list[str] = Field(default_factory=list, description="tags for both datasets")
    downstream: Downstream = Field(["training"], description="jobs to start on the new datasets")
