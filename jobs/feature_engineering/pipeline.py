from __future__ import annotations

from zenml import pipeline

from jobs.feature_engineering.steps import build_datasets


@pipeline(enable_cache=False)
def feature_engineering(
    source: str,
    target_column: str,
    test_size: float,
    random_state: int,
    training_dataset: str,
    testing_dataset: str,
    version: str | None = None,
    tags: list[str] | None = None,
) -> None:
    build_datasets(
        source,
        target_column,
        test_size,
        random_state,
        training_dataset,
        testing_dataset,
        version,
        tags or [],
    )
