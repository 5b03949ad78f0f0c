"""What a feature engineering run is given: one typed object from settings to the pipeline to
its step. Plain pydantic, no ZenML and no pandas, so ``--help`` stays fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jobs.common.data.kinds import Kind, Missing


class SplitChoice(BaseModel):
    """The source table, how to split it, and how to name the versions: configured by the
    user, passed on as they are."""

    source: str = Field(
        "iris",
        description="'iris', a .csv/.parquet file or folder (path or s3:// URI), or a template "
        "with {partition}, e.g. s3://bucket/raw/dt={partition}/",
    )
    target_column: str = Field("species", description="the label column of the source table")
    test_size: float = Field(0.2, gt=0, lt=1, description="fraction of rows for testing")
    random_state: int = Field(42, description="seed of the split")
    version: str | None = Field(
        None, description="custom version name, e.g. raw_2023; may use {partition}: raw_{partition}"
    )
    tags: list[str] = Field(default_factory=list, description="tags for both datasets")
    columns: dict[str, Kind] = Field(
        default_factory=dict,
        description="a column's kind where the inferred one is wrong, e.g. {zip: categorical}: "
        "numeric, categorical, boolean, datetime, identifier or text (text is no feature)",
    )
    id_columns: list[str] = Field(
        default_factory=list,
        description="identifiers: no features, carried into the datasets and the predictions, "
        "and what the split hashes",
    )
    drop_columns: list[str] = Field(default_factory=list, description="columns left out")
    time_column: str | None = Field(
        None, description="split by time: the newest test_size of the rows go to testing"
    )
    task: Literal["auto", "classification", "regression"] = Field(
        "auto", description="auto: from the target (scikit-learn's type_of_target)"
    )
    missing: Missing = Field(
        "impute", description="gaps in a feature: imputed by the model, or refused (exit 2)"
    )


class FeatureEngineeringParams(SplitChoice):
    """A run's whole input: the split choice plus the names of the two datasets it publishes."""

    model_config = ConfigDict(frozen=True)

    training_dataset: str
    testing_dataset: str
    schema_record: dict[str, Any] | None = None
    """The source's schema as the pre-flight survey found it (``jobs.common.data.schema``);
    None: the step surveys the source itself."""
