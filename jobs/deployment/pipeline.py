from __future__ import annotations

from zenml import pipeline
from zenml.client import Client

from jobs.deployment.settings import Parameters
from jobs.deployment.steps import deploy_model


@pipeline(enable_cache=False)
def deployment(params: Parameters) -> None:
    # The run is configured with Model(version=ModelStages.PRODUCTION): the step deploys exactly
    # the version this run resolved, and smoke-tests it with real rows of the testing dataset.
    testing = Client().get_artifact_version(name_id_or_prefix=params.testing_dataset)
    deploy_model(testing, params)
