"""A thin step around the plain functions of ``datasets``: the source, split and written as two
parquet folders in the artifact store, registered as the two named datasets."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from zenml import step

from jobs.common.data import streaming
from jobs.common.data.schema import SCHEMA_KEY, TableSchema
from jobs.common.store import artifacts
from jobs.feature_engineering.datasets import (
    describe,
    open_source,
    survey,
    test_rows,
    write_split,
)
from jobs.feature_engineering.params import FeatureEngineeringParams

log = logging.getLogger("handoff")


@step
def build_datasets(params: FeatureEngineeringParams) -> None:
    """Publish both datasets under their configured names (names and versions are config,
    which a static output annotation cannot express, hence a registration of the folders)."""
    table = open_source(params.source)
    if params.schema_record is not None:
        schema = TableSchema.model_validate(params.schema_record)
    else:
        schema = survey(table, params)
    testing = test_rows(table, params, schema)
    names = (params.training_dataset, params.testing_dataset)
    attempt = uuid.uuid4().hex[:12]
    root = artifacts.store_root()
    folders = (
        streaming.join(streaming.join(root, names[0]), attempt),
        streaming.join(streaming.join(root, names[1]), attempt),
    )
    try:
        written = write_split(table, params, testing, folders)
        if written.rows_without_target:
            log.warning(
                "%s: %d row(s) without a target dropped",
                params.source,
                written.rows_without_target,
                extra={"rows_without_target": written.rows_without_target},
            )
        metadata: dict[str, Any] = {
            "target_column": params.target_column,
            "feature_schema": schema.feature_dtypes(),
            SCHEMA_KEY: schema.to_metadata(),
            "task": schema.task,
            "source": params.source,
            # What says how new the rows are (jobs.common.quality.realized.newest_time).
            **({"time_column": params.time_column} if params.time_column else {}),
            "input": describe(table),
            "rows_without_target": written.rows_without_target,
        }
        for name, folder, rows in zip(
            names, folders, (written.training_rows, written.testing_rows), strict=True
        ):
            artifacts.register_folder(
                name, params.version, folder, {**metadata, "rows": rows}, tags=params.tags
            )
    except BaseException:
        for folder in folders:
            streaming.remove_tree(folder)
        raise
