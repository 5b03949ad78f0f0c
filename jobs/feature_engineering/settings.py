from __future__ import annotations

from pydantic import Field, model_validator

from jobs.common.chaining import Downstream
from jobs.common.data import partitions
from jobs.common.runtime.settings import JobSettings
from jobs.feature_engineering.params import FeatureEngineeringParams, SplitChoice


class Settings(SplitChoice, JobSettings):
    """The shared keys, the split choice (passed on in ``FeatureEngineeringParams``), and which
    jobs to start afterwards."""

    downstream: Downstream = Field(["training"], description="jobs to start on the new datasets")
    partition: str | None = Field(None, description="fills {partition} in source and version")

    @model_validator(mode="after")
    def _fill_partition(self) -> Settings:
        """The partition picks the source and names the versions, so training can pin them."""
        for key in ("source", "version"):
            value = getattr(self, key)
            if partitions.is_template(value):
                if not self.partition:
                    raise ValueError(f"{key} {value!r} names a {{partition}}: set partition")
                setattr(self, key, partitions.render(value, self.partition))
        return self

    def params(self) -> FeatureEngineeringParams:
        return FeatureEngineeringParams(
            **self.model_dump(include=set(FeatureEngineeringParams.model_fields))
        )
