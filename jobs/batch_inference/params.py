"""What one scoring run is given: one typed object from the plan to the pipeline to its step.
Plain pydantic, no ZenML and no pandas, so ``--help`` stays fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobs.common.data.kinds import Unseen


class ScoringChoice(BaseModel):
    """How every batch is scored and checked: settings keys, passed on in ``PartitionRun``."""

    id_columns: list[str] = Field(
        default_factory=list, description="input columns copied into the predictions (join keys)"
    )
    probabilities: bool = Field(False, description="add one probability column per class")
    batch_rows: int = Field(131_072, gt=0, description="rows per batch read, checked and scored")
    drift: Literal["warn", "fail", "off"] = Field(
        "warn",
        description="a partition whose features drifted from the training data: warn (one "
        "line), fail (exit 2, nothing published) or off",
    )
    unseen: Unseen = Field(
        "warn",
        description="rows with a category the model never saw: warn (counted per column in the "
        "predictions' metadata, unseen_categories) or fail (exit 2, nothing published)",
    )
    drift_threshold: float = Field(
        0.2, gt=0, description="PSI from which a feature counts as drifted (with KS p < 0.01)"
    )


class PartitionRun(ScoringChoice):
    """One partition scored by one model version, and where everything goes."""

    model_config = ConfigDict(frozen=True)

    partition: str
    """The key (``2026-11-25``); for an input without ``{partition}``, derived from the input."""
    input: str
    """The input with the partition filled in: a file, a folder/prefix, or ``iris``."""
    output: str | None
    """The optional copy of the predictions, partition filled in."""
    model_name: str
    model_version: int
    model_artifact: str
    feature_schema: dict[str, str]
    """The model version's feature columns and dtypes."""
    schema_record: dict[str, Any] | None = None
    """The model version's recorded schema (``jobs.common.data.schema``): what every batch is
    checked against; None for a version trained before schemas were recorded."""
    predictions_artifact: str
    version: str
    """The predictions artifact's version name: one per (partition, model version, input
    identity): ``<partition>_model_<n>``, then ``..._r<k>`` for the k-th revision."""
    revision: int = 1
    """1, or k when the partition's input changed since revision k - 1 was scored."""
    revision_reason: str | None = None
    """Why revision k exists, e.g. ``input changed: 2 files, 300 rows; was 1 file, 150 rows``."""
    look_ahead: str | None = None
    """Why the partition's data is not newer than the model's training data (its predictions
    are marked ``look_ahead``: ``jobs.common.quality.realized``), or None."""
    shadow_of: int | None = None
    """For a shadow run (the staging challenger into the shadow predictions artifact): the
    production version whose predictions of the partition these shadow; None otherwise."""
    reference: dict[str, Any] | None = None
    """The model version's reference statistics of its training features
    (``jobs.common.quality.drift``); None for a version trained before they were recorded."""

    def table_schema(self) -> Any:  # a TableSchema; pandas is imported only when asked
        from jobs.common.data.schema import SCHEMA_KEY, from_metadata

        recorded = {SCHEMA_KEY: self.schema_record} if self.schema_record else {}
        return from_metadata({**recorded, "feature_schema": self.feature_schema})


class Staged(BaseModel):
    """One (partition, model version)'s staging folder, as every shard computes it alike."""

    model_config = ConfigDict(frozen=True)

    folder: str
    """``<store>/<artifact>/<version>/shards-<N>-<input identity>``."""
    shards: int
    expected_rows: int | None
    """The input's rows from its parquet footers; None for CSV."""
    input: dict[str, Any]
    """Where the input was, its size and identity: recorded instead of a copy."""
