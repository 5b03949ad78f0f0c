"""Before a training run: resolve the dataset versions once and check they belong together.

The checks are plain functions of the datasets' recorded metadata; only ``resolve`` talks to
ZenML. Whatever fails here fails before the pipeline runs: no model version is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobs.common.runtime.errors import BadInput, PreconditionNotMet
from jobs.training.params import DatasetRef, ModelChoice, TrainingParams


@dataclass(frozen=True)
class Dataset:
    """A resolved dataset version and the metadata feature engineering recorded on it."""

    ref: DatasetRef
    metadata: Mapping[str, Any]


def params(choice: ModelChoice, train: Dataset, test: Dataset) -> TrainingParams:
    """The run's parameters, once the two datasets are known to fit together: the metric
    follows the task unless configured, and the estimator must do the task."""
    from jobs.common.data.schema import from_metadata
    from jobs.training.model import DEFAULT_METRIC, METRICS, build

    target = target_column(train, test)
    schema = from_metadata({**train.metadata, "target_column": target})
    if schema is None:
        raise BadInput(
            f"{train.ref.name} version {train.ref.version} records no schema; publish it with "
            "the feature-engineering job"
        )
    metric = DEFAULT_METRIC[schema.task] if choice.metric == "auto" else choice.metric
    if metric not in METRICS[schema.task]:
        raise BadInput(
            f"metric {metric!r} does not judge {schema.task} (the target {target!r} of "
            f"{train.ref.name} version {train.ref.version}); use one of "
            + ", ".join(METRICS[schema.task])
        )
    build(choice.classifier, choice.hyperparameters, choice.random_state, schema.task)
    return TrainingParams(
        **choice.model_dump(include=set(ModelChoice.model_fields) - {"metric"}),
        metric=metric,
        training=train.ref,
        testing=test.ref,
        target_column=target,
        schema_record=schema.to_metadata(),
    )


def target_column(train: Dataset, test: Dataset) -> str:
    """The label column recorded on the training dataset; both datasets must share columns."""
    target = train.metadata.get("target_column")
    if not target:
        raise BadInput(
            f"{train.ref.name} version {train.ref.version} has no target_column metadata; "
            "publish it with the feature-engineering job"
        )
    if train.metadata.get("feature_schema") != test.metadata.get("feature_schema"):
        raise BadInput(
            f"{train.ref.name} version {train.ref.version} and {test.ref.name} version "
            f"{test.ref.version} have different columns"
        )
    return str(target)


def resolve(name: str, version: str | None) -> Dataset:
    """One dataset version by name: the given one, or the latest. Resolved here, once, so the
    pipeline trains on exactly the versions checked even if a newer one is published meanwhile."""
    from zenml.client import Client

    try:
        found = Client().get_artifact_version(name_id_or_prefix=name, version=version)
    except KeyError as err:
        if version:
            raise BadInput(f"dataset {name!r} has no version {version!r}") from err
        raise PreconditionNotMet(
            f"no dataset named {name!r} yet; run the feature-engineering job first"
        ) from err
    return Dataset(
        DatasetRef(name=found.name, version=str(found.version), id=found.id),
        dict(found.run_metadata),
    )


def check_values(params: TrainingParams) -> None:
    """Both datasets hold only values their schema allows: one published before the data
    contract knew a class of bad value is refused here (exit 2), before a model version exists.
    Read batch by batch, as training reads them."""
    from zenml.client import Client

    from jobs.common.data.data_contract import check_features
    from jobs.common.data.schema import TargetTally
    from jobs.training import rows

    schema = table_schema(params)
    for ref in (params.training, params.testing):
        where = f"{ref.name} version {ref.version}"
        labels = TargetTally(params.target_column, schema.task)
        for frame in rows.frames(Client().get_artifact_version(ref.id).uri):
            if params.target_column not in frame.columns:
                raise BadInput(f"{where}: target column {params.target_column!r} is missing")
            check_features(frame, schema, where)
            labels.update(frame[params.target_column], where)
        labels.classes(where)


def table_schema(params: TrainingParams) -> Any:  # a TableSchema
    from jobs.common.data.schema import TableSchema

    return TableSchema.model_validate(params.schema_record)
