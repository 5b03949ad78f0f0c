"""A thin step around the plain functions of ``datasets`` and ``data_contract``."""

from __future__ import annotations

import logging
from typing import Any

from zenml import save_artifact, step
from zenml.enums import ArtifactType

from jobs.common.data.data_contract import with_target
from jobs.common.data.schema import SCHEMA_KEY
from jobs.common.store.parquet import DataFrameParquetMaterializer
from jobs.feature_engineering.datasets import checked, load_source, split
from jobs.feature_engineering.params import FeatureEngineeringParams

log = logging.getLogger("handoff")


@step
def build_datasets(params: FeatureEngineeringParams) -> None:
    """Publish both datasets under their configured names (names and versions are config,
    which a static output annotation cannot express, hence ``save_artifact``)."""
    raw = load_source(params.source)
    schema = checked(raw, params)
    labelled, dropped = with_target(raw.drop(columns=params.drop_columns), params.target_column)
    if dropped:
        log.warning(
            "%s: %d row(s) without a target dropped",
            params.source,
            dropped,
            extra={"rows_without_target": dropped},
        )
    train, test = split(
        labelled,
        params.target_column,
        params.test_size,
        params.random_state,
        schema,
        params.time_column,
    )
    metadata: dict[str, Any] = {
        "target_column": params.target_column,
        "feature_schema": schema.feature_dtypes(),
        SCHEMA_KEY: schema.to_metadata(),
        "task": schema.task,
        "source": params.source,
        "rows_without_target": dropped,
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
