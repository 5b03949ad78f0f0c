"""python -m jobs.feature_engineering — publish the training and testing datasets."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common import chaining
from jobs.common.runtime.connection import connect
from jobs.common.runtime.entrypoint import job_main
from jobs.common.store import stuck_runs
from jobs.feature_engineering.settings import Settings


def run(settings: Settings) -> int:
    # pandas, scikit-learn and ZenML are imported here, not above: `--help` stays fast.
    from jobs.feature_engineering import preflight

    params = settings.params()
    connect()  # first: an s3:// source is read through the stack's artifact store
    preflight.check_source(params)
    preflight.check_version_free(params)

    from zenml.client import Client

    from jobs.feature_engineering.pipeline import feature_engineering

    with stuck_runs.running("feature_engineering") as tags:
        pipeline_run = feature_engineering.with_options(tags=tags)(params=params)
    versions = []
    for name in (params.training_dataset, params.testing_dataset):
        published = Client().get_artifact_version(name_id_or_prefix=name)
        rows = published.run_metadata.get("rows")
        print(f"published {name} version {published.version} ({rows} rows)")
        versions.append(str(published.version))
    chaining.after_datasets(settings.downstream, str(pipeline_run.id), *versions)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "feature_engineering",
        Settings,
        run,
        "Turn a raw table into named, versioned training and testing datasets.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
