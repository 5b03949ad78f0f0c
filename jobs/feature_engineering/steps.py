from __future__ import annotations

from zenml import save_artifact, step
from zenml.enums import ArtifactType

from jobs.common.data_contract import validate_labelled
from jobs.common.parquet import DataFrameParquetMaterializer
from jobs.feature_engineering.datasets import load_source, split


@step
def build_datasets(
    source: str,
    target_column: str,
    test_size: float,
    random_state: int,
    training_dataset: str,
    testing_dataset: str,
    version: str | None,
    tags: list[str],
) -> None:
    """Publish both datasets under their configured names (names and versions are config,
    which a static output annotation cannot express, hence ``save_artifact``)."""
    raw = load_source(source)
    schema = validate_labelled(raw, target_column, source)
    train, test = split(raw, target_column, test_size, random_state)
    metadata = {"target_column": target_column, "feature_schema": schema, "source": source}
    for name, frame in ((training_dataset, train), (testing_dataset, test)):
        save_artifact(
            frame,
            name=name,
            version=version,
            tags=tags or None,
            artifact_type=ArtifactType.DATA,
            materializer=DataFrameParquetMaterializer,
            include_visualizations=False,
            user_metadata={**metadata, "rows": len(frame)},
        )
