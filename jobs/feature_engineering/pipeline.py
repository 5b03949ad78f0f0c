from __future__ import annotations

from zenml import pipeline

from jobs.feature_engineering.params import FeatureEngineeringParams
from jobs.feature_engineering.steps import build_datasets


@pipeline(enable_cache=False)
def feature_engineering(params: FeatureEngineeringParams) -> None:
    build_datasets(params)
