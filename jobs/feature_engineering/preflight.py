"""Before a feature engineering run: the source table is a valid training table, and the
custom version name is free. Whatever fails here fails before the pipeline runs: nothing is
published."""

from __future__ import annotations

from typing import Any

from jobs.common.runtime.errors import BadInput
from jobs.feature_engineering.datasets import open_source, survey
from jobs.feature_engineering.params import FeatureEngineeringParams


def check_source(params: FeatureEngineeringParams) -> Any:  # a TableSchema
    """Survey the source, batch by batch, against the data contract (an s3:// source needs
    the connected stack); its schema, to record on both datasets."""
    return survey(open_source(params.source), params)


def check_version_free(params: FeatureEngineeringParams) -> None:
    """A custom version name may be used once per dataset."""
    if not params.version:
        return
    from zenml.client import Client

    for name in (params.training_dataset, params.testing_dataset):
        try:
            Client().get_artifact_version(name_id_or_prefix=name, version=params.version)
        except KeyError:
            continue
        raise BadInput(
            f"{name} already has a version {params.version!r}; choose another version name"
        )
