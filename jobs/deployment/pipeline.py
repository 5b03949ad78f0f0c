from __future__ import annotations

from typing import Any

from zenml import pipeline
from zenml.client import Client

from jobs.deployment.steps import deploy_model


@pipeline(enable_cache=False)
def deployment(
    target: dict[str, Any],
    testing_dataset: str,
    target_column: str,
    smoke_rows: int,
    model_artifact: str,
) -> None:
    # The run is configured with Model(version=ModelStages.PRODUCTION): the step deploys exactly
    # the version this run resolved, and smoke-tests it with real rows of the testing dataset.
    testing = Client().get_artifact_version(name_id_or_prefix=testing_dataset)
    deploy_model(testing, target, target_column, smoke_rows, model_artifact)
