from __future__ import annotations

from pydantic import Field, field_validator

from jobs.common.data import partitions
from jobs.common.runtime.settings import JobSettings
from jobs.gc.params import GcParams


class Settings(JobSettings):
    """What to keep. A dry run by default: ``apply`` deletes what the dry run lists."""

    apply: bool = Field(False, description="delete what the rules select (default: only list it)")
    keep_last: int = Field(
        30,
        ge=1,
        description="partitions kept per predictions artifact, newest by key (every version of "
        "an older partition goes)",
    )
    keep_days: int | None = Field(
        None, ge=0, description="also keep every version created within this many days"
    )
    keep_archived: int = Field(
        3,
        ge=0,
        description="model versions kept besides production and staging: the newest N others",
    )
    keep_datasets: int = Field(
        3, ge=1, description="newest versions kept per dataset, besides those a kept model names"
    )
    orphan_age: str = Field(
        "1d",
        description="files no artifact version references are deleted once this old (a "
        "staging folder: once its newest file is)",
    )

    @field_validator("orphan_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        partitions.parse_duration(value, "orphan_age")
        return value

    def params(self) -> GcParams:
        return GcParams(**self.model_dump(include=set(GcParams.model_fields)))
