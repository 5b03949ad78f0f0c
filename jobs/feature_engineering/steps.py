"""A thin step around the plain functions of ``datasets`` and ``data_contract``."""

from __future__ import annotations

from typing import Any

from zenml import save_artifact, step
from zenml.enums import ArtifactType

from jobs.common.data.data_contract import validate_labelled
from jobs.common.store.parquet import DataFrameParquetMaterializer
from jobs.feature_engineering.datasets import load_source, split
from jobs.feature_engineering.params import FeatureEngineeringParams


@step
def build_datasets(params: FeatureEngineeringParams) -> None:
    """Publish both datasets under their configured names (names and versions are config,
    which a static output annotation cannot express, hence ``save_artifact``)."""
    raw = load_source(params.source)
    schema = validate_labelled(raw, params.target_column, params.source)
    train, test = split(raw, params.target_column, params.test_size, params.random_state)
    metadata: dict[str, Any] = {
        "target_column": params.target_column,
        "feature_schema": schema,
        "source": params.source,
    }
    for name, frame in ((params.training_dataset, train), (params.testing_dataset, test)):
        save_artifact(
            frame,
            name=name,
            version=params.version,
            tags=params.tags or None,
            artifact_type=ArtifactType.DATA,
            materializer=DataFrameParquetMaterializer,
            include_visualizations=False,
            user_metadata={**metadata, "rows": len(frame)},
        )
