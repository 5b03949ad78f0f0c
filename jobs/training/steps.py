from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from sklearn.base import ClassifierMixin
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.config.retry_config import StepRetryConfig
from zenml.enums import ArtifactType

from jobs.common import model_registry
from jobs.common.data_contract import feature_schema
from jobs.common.promotion import decide
from jobs.training.model import build, fit, score


@step
def train_model(
    train: pd.DataFrame,
    target_column: str,
    classifier: str,
    hyperparameters: dict[str, Any],
    random_state: int,
) -> Annotated[
    ClassifierMixin,
    ArtifactConfig(name="{model_artifact}", artifact_type=ArtifactType.MODEL),
]:
    return fit(build(classifier, hyperparameters, random_state), train, target_column)


@step
def evaluate_model(
    model: ClassifierMixin,
    train: pd.DataFrame,
    test: pd.DataFrame,
    target_column: str,
    datasets: dict[str, dict[str, str]],
) -> Annotated[dict[str, float], "metrics"]:
    """Score on the testing dataset and record what serving and inference need to know."""
    metrics = score(model, test, target_column)
    log_metadata(
        metadata={
            "metrics": metrics,
            "feature_schema": feature_schema(train.drop(columns=[target_column])),
            "target_column": target_column,
            "classes": [str(c) for c in model.classes_],
            "datasets": datasets,
        },
        infer_model=True,
    )
    return metrics


# A transient server error must not lose a model that earned production; a retry that finds the
# candidate already in production keeps the record it wrote.
@step(retry=StepRetryConfig(max_retries=2, delay=2, backoff=2))
def promote_model(
    metrics: dict[str, float], metric: str, threshold: float
) -> Annotated[dict[str, Any], "promotion_decision"]:
    context = get_step_context()
    candidate = context.model
    # Decide and act under one lock: the champion cannot change in between.
    with model_registry.promotion_lock(candidate.name):
        champion = model_registry.production_version(candidate.name)
        if champion is not None and champion.number == candidate.number:  # a retry after success
            return dict(champion.run_metadata.get(model_registry.PROMOTION_KEY, {}))
        decision = decide(
            metrics[metric],
            None if champion is None else model_registry.metric_of(champion, metric),
            threshold,
            metric=metric,
            champion_version=None if champion is None else str(champion.number),
        )
        return model_registry.apply_decision(
            candidate.name,
            candidate.number,
            decision,
            decided_by=f"training pipeline run {context.pipeline_run.name}",
        )
