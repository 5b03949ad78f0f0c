from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, step

from jobs.common.store import model_registry
from jobs.deployment import record
from jobs.deployment.factory import make_target
from jobs.deployment.rollout import rollout
from jobs.deployment.settings import Parameters
from jobs.deployment.targets.base import Release


@step(enable_cache=False)
def deploy_model(
    testing: pd.DataFrame, params: Parameters
) -> Annotated[dict[str, Any], "deployment"]:
    model = get_step_context().model
    rows = testing.drop(columns=[params.target_column]).head(params.smoke_rows)
    release = Release(model.name, str(model.number), params.model_artifact)
    written = rollout(make_target(params.target), release, rows)
    model_registry.record(model.name, model.number, record.key(written["target"]), written)
    return written
