"""Which partitions a run scores and under which names: plain functions, no ZenML.

Exactly once: a partition is scored once per production model version. The predictions of
(partition, model version) are one named artifact version, ``<dataset>_predictions`` version
``<partition>_model_<n>``; if it exists the partition is done.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from jobs.batch_inference.params import PartitionRun, ScoringChoice
from jobs.batch_inference.settings import Settings
from jobs.common.data import partitions

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def schedule(settings: Settings) -> partitions.Schedule:
    return partitions.Schedule(
        format=settings.partition_format,
        every=partitions.parse_duration(settings.partition_every, "partition_every"),
        lag=partitions.parse_duration(settings.partition_lag, "partition_lag"),
        timezone=settings.partition_timezone,
    )


def requested_keys(settings: Settings, identity: Callable[[str], str]) -> list[str]:
    """The partition keys asked for, oldest first.

    An input without ``{partition}`` is one partition whose key is the given ``--partition``,
    else derived from the content (``identity(input)``): the same table is scored once per model.
    """
    if partitions.is_template(settings.input):
        return partitions.keys_to_score(
            schedule(settings),
            partition=settings.partition,
            first=settings.backfill_from,
            last=settings.backfill_to,
            scheduled_time=settings.scheduled_time,
            job_name=settings.job_name,
        )
    if settings.backfill_from or settings.backfill_to:
        from jobs.common.runtime.errors import BadInput

        raise BadInput("a backfill (--from/--to) needs an input with {partition} in it")
    return [settings.partition or identity(settings.input)]


def is_chained_rescore(settings: Settings) -> bool:
    """A partitioned input and nothing that names a partition: a start by an upstream job
    (pinned to its model version), which rescores the newest scored partition."""
    explicit = settings.partition or settings.backfill_from or settings.backfill_to
    return partitions.is_template(settings.input) and not (explicit or settings.scheduled_time)


def version_name(partition: str, model_version: int) -> str:
    """A version name every store accepts, readable: ``2026-11-25_model_3``."""
    return f"{_UNSAFE.sub('-', partition).strip('-') or 'partition'}_model_{model_version}"


def runs(
    settings: Settings,
    keys: Iterable[str],
    model_version: int,
    feature_schema: dict[str, str],
    reference: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
) -> list[PartitionRun]:
    def fill(template: str | None, key: str) -> str | None:
        return partitions.render(template, key) if template else None

    scoring = settings.model_dump(include=set(ScoringChoice.model_fields))
    # The identifiers feature engineering was told of are carried into the predictions unless
    # the run names its own.
    scoring["id_columns"] = scoring["id_columns"] or list((schema or {}).get("id_columns", []))
    return [
        PartitionRun(
            partition=key,
            input=str(fill(settings.input, key)),
            output=fill(settings.output, key),
            model_name=settings.model_name,
            model_version=model_version,
            model_artifact=settings.model_artifact,
            feature_schema=feature_schema,
            predictions_artifact=settings.predictions_artifact,
            version=version_name(key, model_version),
            reference=reference,
            schema_record=schema,
            **scoring,
        )
        for key in keys
    ]
