"""What a feature engineering run is given: one typed object from settings to the pipeline to
its step. Plain pydantic, no ZenML and no pandas, so ``--help`` stays fast."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class FeatureEngineeringParams(SplitChoice):
    """A run's whole input: the split choice plus the names of the two datasets it publishes."""

    model_config = ConfigDict(frozen=True)

    training_dataset: str
    testing_dataset: str
