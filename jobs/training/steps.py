"""Thin steps around the plain functions of ``model`` and ``model_registry``."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.config.retry_config import StepRetryConfig
from zenml.enums import ArtifactType
from zenml.types import HTMLString

from jobs.common.data.schema import SCHEMA_KEY, label_text
from jobs.common.quality import drift
from jobs.common.store import model_registry
from jobs.training import report
from jobs.training.model import baseline, build, fit, sample, score
from jobs.training.params import TrainingParams
from jobs.training.preflight import table_schema
from jobs.training.preprocessing import model_pipeline


@step
def train_model(
    train: pd.DataFrame, params: TrainingParams
) -> Annotated[
    Pipeline,
    ArtifactConfig(name="{model_artifact}", artifact_type=ArtifactType.MODEL),
]:
    """The whole pipeline (the schema's reading of the raw columns, the preprocessing, the
    estimator), fitted on at most ``max_training_rows`` uniformly sampled training rows."""
    schema = table_schema(params)
    estimator = build(params.classifier, params.hyperparameters, params.random_state, schema.task)
    rows = sample(train, params.max_training_rows, params.random_state)
    log_metadata(
        metadata={"training_rows": {"fitted": len(rows), "available": len(train)}},
        infer_model=True,
    )
    return fit(model_pipeline(schema, estimator), rows, params.target_column)


@step
def evaluate_model(
    model: Pipeline, train: pd.DataFrame, test: pd.DataFrame, params: TrainingParams
) -> tuple[Annotated[dict[str, float], "metrics"], Annotated[dict[str, float], "baseline"]]:
    """Score on the testing dataset, beside a trivial baseline, and record what serving and
    inference need to know."""
    schema = table_schema(params)
    target = params.target_column
    metrics = score(model, test, target, schema.task)
    trivial = baseline(train, test, target, schema.task)
    features = train[list(schema.features)]
    log_metadata(
        metadata={
            "metrics": metrics,
            "baseline": trivial,
            "task": schema.task,
            "feature_schema": schema.feature_dtypes(),
            SCHEMA_KEY: params.schema_record,
            "target_column": target,
            **({"classes": [label_text(c) for c in model.classes_]} if schema.classes else {}),
            "datasets": {"training": params.training.record(), "testing": params.testing.record()},
            drift.METADATA_KEY: drift.to_metadata(drift.reference_statistics(features)),
        },
        infer_model=True,
    )
    return metrics, trivial


# A transient server error must not lose a model that earned production; a retry that finds the
# candidate already in production keeps the record it wrote.
@step(retry=StepRetryConfig(max_retries=2, delay=2, backoff=2))
def promote_model(
    metrics: dict[str, float], baseline: dict[str, float], params: TrainingParams
) -> Annotated[dict[str, Any], "promotion_decision"]:
    context = get_step_context()
    return model_registry.promote_if_earned(
        context.model.name,
        context.model.number,
        metrics,
        params.metric,
        params.threshold,
        decided_by=f"training pipeline run {context.pipeline_run.name}",
        baseline=baseline.get(params.metric),
    )


@step
def report_evaluation(
    model: Pipeline,
    test: pd.DataFrame,
    decision: dict[str, Any],
    params: TrainingParams,
) -> Annotated[HTMLString, "evaluation_report"]:
    """The dashboard's picture of this evaluation: on the run and on the model version."""
    candidate = get_step_context().model
    target = params.target_column
    evaluation = (
        report.evaluate_regression(model, test, target)
        if table_schema(params).task == "regression"
        else report.evaluate(model, test, target)
    )
    testing = f"{params.testing.name}:{params.testing.version}"
    return HTMLString(
        report.render(evaluation, decision, candidate.name, str(candidate.number), testing)
    )
