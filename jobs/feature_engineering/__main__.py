"""python -m jobs.feature_engineering — publish the training and testing datasets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from jobs.common import chaining
from jobs.common.connection import connect
from jobs.common.data_contract import validate_labelled
from jobs.common.entrypoint import job_main
from jobs.common.errors import BadInput
from jobs.feature_engineering.datasets import load_source
from jobs.feature_engineering.settings import Settings

log = logging.getLogger("handoff")


def run(settings: Settings) -> int:
    connect()  # first: an s3:// source is read through the stack's artifact store
    # Validate before anything runs, so bad data never reaches the artifact store.
    validate_labelled(load_source(settings.source), settings.target_column, settings.source)
    from zenml.client import Client

    names = (settings.training_dataset, settings.testing_dataset)
    if settings.version:
        for name in names:
            try:
                Client().get_artifact_version(name_id_or_prefix=name, version=settings.version)
            except KeyError:
                continue
            raise BadInput(
                f"{name} already has a version {settings.version!r}; choose another version name"
            )

    from jobs.feature_engineering.pipeline import feature_engineering

    run = feature_engineering(
        source=settings.source,
        target_column=settings.target_column,
        test_size=settings.test_size,
        random_state=settings.random_state,
        training_dataset=settings.training_dataset,
        testing_dataset=settings.testing_dataset,
        version=settings.version,
        tags=settings.tags,
    )
    versions = []
    for name in names:
        published = Client().get_artifact_version(name_id_or_prefix=name)
        rows = published.run_metadata.get("rows")
        print(f"published {name} version {published.version} ({rows} rows)")
        versions.append(str(published.version))
    chaining.after_datasets(settings.downstream, str(run.id), *versions)
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
