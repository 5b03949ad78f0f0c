"""What one scoring run is given: one typed object from the plan to the pipeline to its step.
Plain pydantic, no ZenML and no pandas, so ``--help`` stays fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class PartitionRun(BaseModel):
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
    """The model version's feature columns and dtypes: what every batch is checked against."""
    predictions_artifact: str
    version: str
    """The predictions artifact's version name: one per (partition, model version)."""
    id_columns: tuple[str, ...] = ()
    probabilities: bool = False
    batch_rows: int = 131_072
    drift: Literal["warn", "fail", "off"] = "warn"
    drift_threshold: float = 0.2
    reference: dict[str, Any] | None = None
    """The model version's reference statistics of its training features
    (``jobs.common.quality.drift``); None for a version trained before they were recorded."""


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
