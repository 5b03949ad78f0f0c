"""Thin steps around the plain functions of ``model`` and ``model_registry``."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from sklearn.base import ClassifierMixin
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.config.retry_config import StepRetryConfig
from zenml.enums import ArtifactType
from zenml.types import HTMLString

from jobs.common.data.data_contract import feature_schema
from jobs.common.quality import drift
from jobs.common.store import model_registry
from jobs.training import report
from jobs.training.model import build, fit, score
from jobs.training.params import TrainingParams


@step
def train_model(
    train: pd.DataFrame, params: TrainingParams
) -> Annotated[
    ClassifierMixin,
    ArtifactConfig(name="{model_artifact}", artifact_type=ArtifactType.MODEL),
]:
    estimator = build(params.classifier, params.hyperparameters, params.random_state)
    return fit(estimator, train, params.target_column)


@step
def evaluate_model(
    model: ClassifierMixin, train: pd.DataFrame, test: pd.DataFrame, params: TrainingParams
) -> Annotated[dict[str, float], "metrics"]:
    """Score on the testing dataset and record what serving and inference need to know."""
    metrics: dict[str, float] = {
        str(k): v for k, v in score(model, test, params.target_column).items()
    }
    log_metadata(
        metadata={
            "metrics": metrics,
            "feature_schema": feature_schema(train.drop(columns=[params.target_column])),
            "target_column": params.target_column,
            "classes": [str(c) for c in model.classes_],
            "datasets": {"training": params.training.record(), "testing": params.testing.record()},
            drift.METADATA_KEY: drift.to_metadata(
                drift.reference_statistics(train.drop(columns=[params.target_column]))
            ),
        },
        infer_model=True,
    )
    return metrics


# A transient server error must not lose a model that earned production; a retry that finds the
# candidate already in production keeps the record it wrote.
@step(retry=StepRetryConfig(max_retries=2, delay=2, backoff=2))
def promote_model(
    metrics: dict[str, float], params: TrainingParams
) -> Annotated[dict[str, Any], "promotion_decision"]:
    context = get_step_context()
    return model_registry.promote_if_earned(
        context.model.name,
        context.model.number,
        metrics,
        params.metric,
        params.threshold,
        decided_by=f"training pipeline run {context.pipeline_run.name}",
    )


@step
def report_evaluation(
    model: ClassifierMixin,
    test: pd.DataFrame,
    decision: dict[str, Any],
    params: TrainingParams,
) -> Annotated[HTMLString, "evaluation_report"]:
    """The dashboard's picture of this evaluation: on the run and on the model version."""
    candidate = get_step_context().model
    evaluation = report.evaluate(model, test, params.target_column)
    testing = f"{params.testing.name}:{params.testing.version}"
    return HTMLString(
        report.render(evaluation, decision, candidate.name, str(candidate.number), testing)
    )
