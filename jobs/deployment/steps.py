from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from zenml import get_step_context, step

from jobs.common import model_registry
from jobs.deployment.rollout import rollout
from jobs.deployment.targets import make_target


@step(enable_cache=False)
def deploy_model(
    testing: pd.DataFrame,
    target: dict[str, Any],
    target_column: str,
    smoke_rows: int,
    model_artifact: str,
) -> Annotated[dict[str, Any], "deployment"]:
    model = get_step_context().model
    rows = testing.drop(columns=[target_column]).head(smoke_rows)
    record = rollout(make_target(target), model.name, str(model.number), model_artifact, rows)
    model_registry.record(model.name, model.number, f"deployment_{record['target']}", record)
    return record
