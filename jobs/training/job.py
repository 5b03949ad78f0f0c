"""The training job: resolve the datasets, train, evaluate and judge in one pipeline run,
report the promotion record that run left, and start what follows."""

from __future__ import annotations

from typing import Any, NamedTuple

from jobs.common import chaining
from jobs.common.runtime.connection import connect
from jobs.common.store import stuck_runs
from jobs.training.params import TrainingParams
from jobs.training.settings import Settings


def run(settings: Settings) -> int:
    # scikit-learn and ZenML are imported here, not above: `--help` stays fast.
    from jobs.training import preflight
    from jobs.training.model import build

    build(settings.classifier, settings.hyperparameters, settings.random_state)  # bad config: 2
    connect()
    params = preflight.params(
        settings,
        preflight.resolve(settings.training_dataset, settings.train_version),
        preflight.resolve(settings.testing_dataset, settings.test_version),
    )
    if settings.skip_if_trained and (
        done := chaining.fallback_done(
            settings.model_name,
            params.training.record(),
            params.testing.record(),
            pinned=bool(settings.train_version or settings.test_version),
        )
    ):
        print(done)
        return 0
    preflight.check_values(params)
    trained = train(settings.model_name, settings.model_artifact, params)
    record = trained.record
    print(
        f"trained {settings.model_name} version {trained.version} on {params.training.name}:"
        f"{params.training.version}: {params.metric}={record.get('candidate', float('nan')):.4f}"
        f" -> {record.get('stage')} ({record.get('reason')})"
    )
    chaining.after_training(
        settings.downstream,
        trained.run_id,
        str(trained.version),
        str(record.get("stage")),
        predictions=settings.predictions_artifact,
    )
    return 0


class Trained(NamedTuple):
    run_id: str
    version: int
    record: dict[str, Any]
    """The promotion record left on the model version: stage, reason, numbers."""


def train(model_name: str, model_artifact: str, params: TrainingParams) -> Trained:
    """Run the pipeline; return this run's model version and the promotion record left on it
    (this run's own: another training may have finished meanwhile)."""
    from zenml import Model
    from zenml.client import Client

    from jobs.common.store.model_registry import PROMOTION_KEY
    from jobs.training.pipeline import training

    with stuck_runs.running("training") as tags:
        pipeline_run = training.with_options(
            model=Model(
                name=model_name, description="classifier trained by handoff's training job"
            ),
            substitutions={"model_artifact": model_artifact},
            tags=tags,
        )(params=params)
    assert pipeline_run is not None, "a pipeline run on the local orchestrator returns its run"
    version = Client().get_pipeline_run(pipeline_run.id).model_version
    assert version is not None, "the training pipeline runs with a model"
    recorded = version.run_metadata.get(PROMOTION_KEY, {})
    return Trained(
        str(pipeline_run.id), version.number, dict(recorded if isinstance(recorded, dict) else {})
    )
