from __future__ import annotations

from pydantic import Field

from jobs.common.chaining import Downstream
from jobs.common.settings import JobSettings
from jobs.feature_engineering.params import FeatureEngineeringParams, SplitChoice


class Settings(SplitChoice, JobSettings):
    """The shared keys, the split choice (passed on in ``FeatureEngineeringParams``), and which
    jobs to start afterwards."""

    downstream: Downstream = Field(["training"], description="jobs to start on the new datasets")

    def params(self) -> FeatureEngineeringParams:
        return FeatureEngineeringParams(
            **self.model_dump(include=set(FeatureEngineeringParams.model_fields))
        )
