"""The feature engineering job: check the source, publish both datasets in one pipeline run,
report what that run published, and start what follows."""

from __future__ import annotations

from jobs.common import chaining
from jobs.common.runtime.connection import connect
from jobs.common.store import artifacts, stuck_runs
from jobs.feature_engineering.settings import Settings

STEP = "build_datasets"


def run(settings: Settings) -> int:
    # pandas, scikit-learn and ZenML are imported here, not above: `--help` stays fast.
    from jobs.feature_engineering import preflight

    params = settings.params()
    connect()  # first: an s3:// source is read through the stack's artifact store
    preflight.check_version_free(params)
    schema = preflight.check_source(params)
    params = params.model_copy(update={"schema_record": schema.to_metadata()})

    from jobs.feature_engineering.pipeline import feature_engineering

    with stuck_runs.running("feature_engineering") as tags:
        pipeline_run = feature_engineering.with_options(tags=tags)(params=params)
    assert pipeline_run is not None, "a pipeline run on the local orchestrator returns its run"
    # What this run published, from its step's outputs: another run may have published since.
    outputs = artifacts.step_outputs(pipeline_run.id, STEP)
    versions = []
    for name in (params.training_dataset, params.testing_dataset):
        (published,) = outputs[name]
        rows = published.run_metadata.get("rows")
        print(f"published {name} version {published.version} ({rows} rows)")
        versions.append(str(published.version))
    chaining.after_datasets(settings.downstream, str(pipeline_run.id), *versions)
    return 0
