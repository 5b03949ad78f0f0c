"""python -m jobs.training — train on the named datasets, promote the model if it earns it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common import chaining
from jobs.common.connection import connect
from jobs.common.entrypoint import job_main
from jobs.common.errors import BadInput, PreconditionNotMet
from jobs.training.model import build
from jobs.training.settings import Settings


def resolve_dataset(name: str, version: str | None):  # noqa: ANN201 - ArtifactVersionResponse
    from zenml.client import Client

    try:
        return Client().get_artifact_version(name_id_or_prefix=name, version=version)
    except KeyError as err:
        if version:
            raise BadInput(f"dataset {name!r} has no version {version!r}") from err
        raise PreconditionNotMet(
            f"no dataset named {name!r} yet; run the feature-engineering job first"
        ) from err


def run(settings: Settings) -> int:
    build(settings.classifier, settings.hyperparameters, settings.random_state)
    connect()
    # Resolve "latest" once, here, so both lookups in the pipeline name the same versions even
    # if feature engineering publishes a new one meanwhile.
    train = resolve_dataset(settings.training_dataset, settings.train_version)
    test = resolve_dataset(settings.testing_dataset, settings.test_version)
    target = train.run_metadata.get("target_column")
    if not target:
        raise BadInput(
            f"{train.name} version {train.version} has no target_column metadata; "
            "publish it with the feature-engineering job"
        )
    if train.run_metadata.get("feature_schema") != test.run_metadata.get("feature_schema"):
        raise BadInput(
            f"{train.name} version {train.version} and {test.name} version "
            f"{test.version} have different columns"
        )

    from zenml import Model

    from jobs.training.pipeline import training

    run = training.with_options(
        model=Model(
            name=settings.model_name, description="classifier trained by handoff's training job"
        ),
        substitutions={"model_artifact": settings.model_artifact},
    )(
        training_dataset=train.name,
        train_version=str(train.version),
        testing_dataset=test.name,
        test_version=str(test.version),
        target_column=target,
        classifier=settings.classifier,
        hyperparameters=settings.hyperparameters,
        metric=settings.metric,
        threshold=settings.threshold,
        random_state=settings.random_state,
    )
    from zenml.client import Client

    # This run's own model version and decision: another training may have finished meanwhile.
    finished = Client().get_pipeline_run(run.id)
    record = finished.steps["promote_model"].output.load()
    print(
        f"trained {settings.model_name} version {finished.model_version.number} on {train.name}:"
        f"{train.version}: {settings.metric}={record.get('candidate', float('nan')):.4f} -> "
        f"{record.get('stage')} ({record.get('reason')})"
    )
    chaining.after_training(
        settings.downstream, str(run.id), str(finished.model_version.number), record.get("stage")
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "training",
        Settings,
        run,
        "Train a classifier on the named datasets and promote it if it earns it.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
