"""python -m jobs.batch_inference — predict with whatever model is in production."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.batch_inference.settings import Settings
from jobs.common import stuck_runs
from jobs.common.connection import connect
from jobs.common.entrypoint import job_main
from jobs.common.model_registry import get_version, require_production


def run(settings: Settings) -> int:
    # pandas and scikit-learn are imported here, not above: `--help` stays fast.
    from jobs.batch_inference import features
    from jobs.common.data_contract import validate_features

    connect()
    pinned = settings.model_version  # a chained start: exactly the version it was started for
    production = get_version(settings.model_name, pinned) if pinned else None
    production = production or require_production(settings.model_name)
    data, fingerprint = features.load(settings.input)
    validate_features(data, production.run_metadata.get("feature_schema", {}), settings.input)
    del data  # the pipeline's own step loads it; nothing is written until the input is valid

    from zenml import Model
    from zenml.client import Client
    from zenml.enums import ModelStages

    from jobs.batch_inference.pipeline import batch_inference

    with stuck_runs.running("batch_inference") as tags:
        run = batch_inference.with_options(
            model=Model(name=settings.model_name, version=pinned or ModelStages.PRODUCTION),
            substitutions={"predictions": settings.predictions_artifact},
            tags=tags,
        )(
            input_uri=settings.input,
            fingerprint=fingerprint,
            model_artifact=settings.model_artifact,
            output_uri=settings.output,
        )
    # From this run, not "latest by name": a cached run reuses an older artifact version.
    result = Client().get_pipeline_run(run.id).steps["predict"].output
    meta = result.run_metadata
    print(
        f"predicted {meta.get('rows')} rows with {meta.get('model_name')} version "
        f"{meta.get('model_version')} -> {result.name} version {result.version}"
        + (f" and {settings.output}" if settings.output else "")
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "batch_inference",
        Settings,
        run,
        "Predict on a table with the model that is in production.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
