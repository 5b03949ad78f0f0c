"""Which partitions a run scores and under which names: plain functions, no ZenML.

Exactly once: a partition is scored once per (production model version, input identity). The
predictions of (partition, model version) are a named artifact version, ``<dataset>_predictions``
version ``<partition>_model_<n>``; if it exists and its recorded input identity is the input's
now, the partition is done. If the input changed since (late data), the partition is scored
again as the next *revision*, ``<partition>_model_<n>_r<k>`` (:func:`next_revision`).

A scheduled run also scores the partitions of its catch-up window (the ``catch_up`` keys
before its own) that nothing has scored yet, oldest first (:func:`catch_up_window`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from jobs.batch_inference.params import PartitionRun, ScoringChoice
from jobs.batch_inference.settings import Settings
from jobs.common.data import partitions
from jobs.common.runtime.errors import BadInput


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


def is_explicit(settings: Settings) -> bool:
    """The run names its partitions (``--partition``, a ``--from``/``--to`` backfill)."""
    return bool(settings.partition or settings.backfill_from or settings.backfill_to)


def is_chained_rescore(settings: Settings) -> bool:
    """A partitioned input and nothing that names a partition: a start by an upstream job
    (pinned to its model version), which rescores the newest scored partition."""
    explicit = is_explicit(settings)
    return partitions.is_template(settings.input) and not (explicit or settings.scheduled_time)


def is_scheduled(settings: Settings) -> bool:
    """A partitioned input whose key comes from the run's scheduled time (a CronJob's Job)."""
    explicit = is_explicit(settings)
    scheduled = settings.scheduled_time or (
        settings.job_name and partitions.scheduled_time_of_job(settings.job_name)
    )
    return partitions.is_template(settings.input) and not explicit and bool(scheduled)


def start_of(settings: Settings, key: str) -> datetime | None:
    """When partition ``key``'s data starts, or None: an input without ``{partition}`` (its
    key is derived from the input, no time), or a key not in ``partition_format``."""
    if not partitions.is_template(settings.input):
        return None
    try:
        return schedule(settings).parse(key, "partition")
    except BadInput:
        return None


def catch_up_window(settings: Settings, own: str) -> list[str]:
    """The ``catch_up`` partitions before a scheduled run's own, oldest first."""
    return partitions.keys_before(schedule(settings), own, settings.catch_up)


def version_name(partition: str, model_version: int, revision: int = 1) -> str:
    """A version name every store accepts, readable: ``2026-11-25_model_3`` (``_r2``...)."""
    return partitions.version_name(partition, model_version, revision)


class Scored(NamedTuple):
    """One revision of (partition, model version) already registered."""

    revision: int
    version: str
    metadata: Mapping[str, Any]


def latest_revision(
    run: PartitionRun, versions: Iterable[tuple[str, Mapping[str, Any]]]
) -> Scored | None:
    """Of the partition's predictions ``versions`` (name, metadata), the newest revision by
    ``run``'s model version, or None if that model has not scored the partition."""
    stem = partitions.version_stem(run.partition)
    mine = [
        Scored(parsed.revision, name, meta)
        for name, meta in versions
        if (parsed := partitions.parse_version(name))
        and (parsed.stem, parsed.model_version) == (stem, run.model_version)
    ]
    return max(mine, default=None)


def is_current(latest: Scored | None, identity: str | None) -> bool:
    """Exactly once per input identity: the newest revision was scored from this input."""
    return latest is not None and (latest.metadata.get("input") or {}).get("identity") == identity


def revised(
    run: PartitionRun, latest: Scored | None, now: Mapping[str, Any], rows: int | None
) -> PartitionRun:
    """``run`` as the revision after ``latest`` (itself if there is none), with why: ``now`` is
    the input's description, ``rows`` its rows (from parquet footers; None: CSV)."""
    if latest is None:
        return run
    was = latest.metadata
    before = (was.get("input") or {}).get("files")
    reason = f"input changed: {_size(now.get('files'), rows, now.get('bytes'))}; was " + _size(
        before, was.get("rows"), (was.get("input") or {}).get("bytes")
    )
    revision = latest.revision + 1
    return run.model_copy(
        update={
            "version": version_name(run.partition, run.model_version, revision),
            "revision": revision,
            "revision_reason": reason,
        }
    )


def _size(files: Any, rows: Any, size: Any) -> str:
    count = f"{files} file{'' if files == 1 else 's'}" if files is not None else "?"
    return f"{count}, {rows} rows" if rows is not None else f"{count}, {size} bytes"


def runs(
    settings: Settings,
    keys: Iterable[str],
    model_version: int,
    feature_schema: dict[str, str],
    reference: dict[str, Any] | None = None,
    schema: dict[str, Any] | None = None,
    shadow_of: int | None = None,
) -> list[PartitionRun]:
    """One run per key by ``model_version``; with ``shadow_of`` (the production version), runs
    of the staging challenger into the shadow predictions artifact."""

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
            predictions_artifact=settings.shadow_predictions_artifact
            if shadow_of is not None
            else settings.predictions_artifact,
            version=version_name(key, model_version),
            shadow_of=shadow_of,
            reference=reference,
            schema_record=schema,
            **scoring,
        )
        for key in keys
    ]
