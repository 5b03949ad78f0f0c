"""Thin steps around the plain functions of ``model`` and ``model_registry``."""

from __future__ import annotations

from typing import Annotated, Any

from sklearn.pipeline import Pipeline
from zenml import ArtifactConfig, get_step_context, log_metadata, step
from zenml.artifacts.unmaterialized_artifact import UnmaterializedArtifact
from zenml.config.retry_config import StepRetryConfig
from zenml.enums import ArtifactType
from zenml.types import HTMLString

from jobs.common.data.schema import SCHEMA_KEY, label_text
from jobs.common.quality import drift
from jobs.common.store import model_registry
from jobs.training import report, rows
from jobs.training.model import baseline, build, fit, metrics
from jobs.training.params import TrainingParams
from jobs.training.preflight import table_schema
from jobs.training.preprocessing import model_pipeline


@step
def train_model(
    train: UnmaterializedArtifact, params: TrainingParams
) -> Annotated[
    Pipeline,
    ArtifactConfig(name="{model_artifact}", artifact_type=ArtifactType.MODEL),
]:
    """The whole pipeline (the schema's reading of the raw columns, the preprocessing, the
    estimator), fitted on at most ``max_training_rows`` uniformly drawn training rows (the
    dataset itself is streamed from its folder, never loaded whole)."""
    schema = table_schema(params)
    estimator = build(params.classifier, params.hyperparameters, params.random_state, schema.task)
    fitted, available = rows.sample(train.uri, params.max_training_rows, params.random_state)
    log_metadata(
        metadata={"training_rows": {"fitted": len(fitted), "available": available}},
        infer_model=True,
    )
    return fit(model_pipeline(schema, estimator), fitted, params.target_column)


@step
def evaluate_model(
    model: Pipeline,
    train: UnmaterializedArtifact,
    test: UnmaterializedArtifact,
    params: TrainingParams,
) -> tuple[
    Annotated[dict[str, float], "metrics"],
    Annotated[dict[str, float], "baseline"],
    Annotated[dict[str, Any], "evaluation"],
]:
    """Score every testing row, beside a trivial baseline, and record what serving and
    inference need to know (the drift reference from a sample of the training rows); the
    evaluation (confusion matrix, or points and residuals) for the report."""
    schema = table_schema(params)
    target = params.target_column
    truth, predicted = rows.predictions(model, test.uri, target)
    scores = metrics(truth, predicted, schema.task)
    evaluation = (
        report.evaluate_regression(truth, predicted)
        if schema.task == "regression"
        else report.evaluate(truth, predicted, list(model.classes_))
    )
    trivial = baseline(rows.column(train.uri, target), truth, schema.task)
    at_most = min(params.max_training_rows, drift.REFERENCE_ROWS)
    reference, _ = rows.sample(train.uri, at_most, params.random_state)
    log_metadata(
        metadata={
            "metrics": scores,
            "baseline": trivial,
            "task": schema.task,
            "feature_schema": schema.feature_dtypes(),
            SCHEMA_KEY: params.schema_record,
            "target_column": target,
            **({"classes": [label_text(c) for c in model.classes_]} if schema.classes else {}),
            "datasets": {"training": params.training.record(), "testing": params.testing.record()},
            drift.METADATA_KEY: drift.to_metadata(
                drift.reference_statistics(
                    reference[list(schema.features)],
                    {name: column.kind for name, column in schema.features.items()},
                )
            ),
        },
        infer_model=True,
    )
    return scores, trivial, report.to_record(evaluation)


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
    evaluation: dict[str, Any],
    decision: dict[str, Any],
    params: TrainingParams,
) -> Annotated[HTMLString, "evaluation_report"]:
    """The dashboard's picture of this evaluation: on the run and on the model version."""
    candidate = get_step_context().model
    testing = f"{params.testing.name}:{params.testing.version}"
    return HTMLString(
        report.render(
            report.from_record(evaluation),
            decision,
            candidate.name,
            str(candidate.number),
            testing,
        )
    )
