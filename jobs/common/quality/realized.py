"""Realized quality: the task's metrics on the labels that arrived for a scored partition,
recorded by the monitoring job on that partition's predictions version (metadata ``realized``).

Read here, alike for the monitoring job's picture (realized quality over partitions, per model
version, in the dashboard) and for ``handoff status``'s trend.

No look-ahead: a partition whose data is not newer than the data a model version was trained
on (:func:`look_ahead`) says nothing about how that version does on data it has not seen. Batch
inference marks such predictions (metadata ``look_ahead``, ``look_ahead_reason``), the monitoring
job still records their realized quality but marks it ``look_ahead`` and never starts training
from it, and the trend leaves it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobs.common.quality import pictures
from jobs.common.store.promotion import LivePartition

METADATA_KEY = "realized"
"""The predictions version's metadata key of its realized quality."""
RETRAINING_KEY = "retraining"
"""The model version's metadata key of the retraining its realized quality started."""
TREND = 5
"""Partitions per model version ``handoff status`` shows, the newest."""
LOOK_AHEAD_KEY = "look_ahead"
"""The predictions version's (and its ``realized``'s) mark of a look-ahead partition."""


@dataclass(frozen=True)
class TrainedOn:
    """The newest time of the data a model version was trained (and tested) on: of the dataset
    versions it records (metadata ``datasets``), the newest last time of their ``time_column``
    (:func:`newest_time`). Not the datasets' creation time: a dataset published tonight usually
    holds rows that end days before (their labels had to arrive), so that bound would call every
    night's partition look-ahead."""

    time: datetime
    dataset: str
    """Which dataset version it is, e.g. ``weather_training_dataset version 3``."""


def newest_time(metadata: Mapping[str, Any]) -> datetime | None:
    """The newest time of a dataset version's rows (its run metadata): the last time of its
    ``time_column`` in its recorded schema (a datetime column; a time without a zone is UTC).
    None without a time column: nothing says how new its rows are."""
    column = metadata.get("time_column")
    recorded = metadata.get("schema")
    columns = recorded.get("columns") if isinstance(recorded, Mapping) else None
    found = columns.get(column) if isinstance(columns, Mapping) and column else None
    if not isinstance(found, Mapping) or found.get("kind") != "datetime" or not found.get("max"):
        return None
    try:
        moment = datetime.fromisoformat(str(found["max"]))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def newest_dataset(datasets: Iterable[tuple[str, datetime]]) -> TrainedOn | None:
    """Of (dataset version, newest time) pairs, the newest; None when there are none."""
    found = max(datasets, key=lambda item: item[1], default=None)
    return None if found is None else TrainedOn(time=found[1], dataset=found[0])


def look_ahead(partition: str, start: datetime | None, trained: TrainedOn | None) -> str | None:
    """Why ``partition`` (its data starting at ``start``) is look-ahead for a model version
    trained on ``trained``: it does not start after that data's newest time. None when it is
    newer, or when either time is unknown (a key that is no time, a version trained on datasets
    without a time column): nothing to judge by."""
    if start is None or trained is None or start > trained.time:
        return None
    return (
        f"partition {partition} (from {start.isoformat()}) is not newer than the data the model "
        f"was trained on ({trained.dataset}: rows until {trained.time.isoformat()})"
    )


def trained_on(model_metadata: Mapping[str, Any]) -> TrainedOn | None:
    """:class:`TrainedOn` of a model version (its run metadata), read from the store."""
    from jobs.common.store import artifacts

    recorded = model_metadata.get("datasets")
    found = []
    for entry in recorded.values() if isinstance(recorded, Mapping) else []:
        if not isinstance(entry, Mapping):
            continue
        name, version = str(entry.get("name", "")), str(entry.get("version", ""))
        dataset = artifacts.find(name, version) if name and version else None
        newest = newest_time(dataset.run_metadata) if dataset is not None else None
        if newest is not None:
            found.append((f"{name} version {version}", newest))
    return newest_dataset(found)


@dataclass(frozen=True)
class Point:
    """One partition's realized quality under the model version that scored it."""

    partition: str
    model_version: str
    metric: str
    value: float
    rows: int
    predictions: str
    """The predictions version it was measured on."""
    look_ahead: bool = False
    """Its data is not newer than the model version's training data: not counted."""


def point(version: str, metadata: Mapping[str, Any]) -> Point | None:
    """The point a predictions version's metadata holds, or None (not measured yet)."""
    realized = metadata.get(METADATA_KEY)
    if not isinstance(realized, Mapping) or "value" not in realized:
        return None
    return Point(
        partition=str(metadata.get("partition", "")),
        model_version=str(metadata.get("model_version", "")),
        metric=str(realized.get("metric", "")),
        value=float(realized["value"]),
        rows=int(realized.get("rows", 0)),
        predictions=version,
        look_ahead=bool(realized.get(LOOK_AHEAD_KEY)),
    )


def live(
    production: Iterable[Point], shadow: Iterable[Point], champion: str, challenger: str
) -> list[LivePartition]:
    """The partitions measured under both the ``champion`` (its predictions' ``production``
    points) and the ``challenger`` (its shadow predictions' points), on one metric: what a
    live promotion is decided on (``jobs.common.store.promotion.decide_live``). Of several
    revisions of a partition, the last given wins (give them oldest first)."""
    ours = {p.partition: p for p in production if p.model_version == champion}
    theirs = {p.partition: p for p in shadow if p.model_version == challenger}
    return [
        LivePartition(
            partition=key,
            champion=ours[key].value,
            challenger=found.value,
            look_ahead=ours[key].look_ahead or found.look_ahead,
        )
        for key, found in sorted(theirs.items())
        if key in ours and ours[key].metric == found.metric
    ]


def trend(points: Iterable[Point], look_ahead: bool = False) -> dict[str, list[Point]]:
    """Per model version (oldest first), its points by partition (oldest first); of several
    revisions of one partition, the last given wins (give them oldest first). Look-ahead
    points are left out (``look_ahead=True``: only they)."""
    by_version: dict[str, dict[str, Point]] = {}
    for found in points:
        by_version.setdefault(found.model_version, {})[found.partition] = found
    by_version = {
        version: kept
        for version, line in by_version.items()
        if (kept := {k: p for k, p in line.items() if p.look_ahead == look_ahead})
    }
    return {
        version: [by_partition[key] for key in sorted(by_partition)]
        for version, by_partition in sorted(by_version.items(), key=lambda item: _number(item[0]))
    }


def recorded(predictions_artifact: str) -> list[Point]:
    """Every measured predictions version of ``predictions_artifact``, oldest first."""
    from zenml.client import Client

    found: list[Point] = []
    page = 1
    while True:
        versions = Client().list_artifact_versions(
            artifact=predictions_artifact, sort_by="asc:created", size=100, page=page, hydrate=True
        )
        found += [
            p for v in versions.items if (p := point(str(v.version), v.run_metadata)) is not None
        ]
        if page >= versions.total_pages:
            return found
        page += 1


def status(
    predictions_artifact: str, model_versions: Iterable[Any], shadow_artifact: str | None = None
) -> dict[str, Any] | None:
    """What ``handoff status`` shows: per model version, its newest ``TREND`` partitions'
    realized values (oldest first) on its predictions and, for a challenger, on its shadow
    predictions (``shadow_artifact``), the look-ahead partitions measured but not counted, and
    the retraining each version started; None before the first measurement."""
    points = recorded(predictions_artifact)
    lines, ahead = trend(points), trend(points, look_ahead=True)
    shadows = trend(recorded(shadow_artifact)) if shadow_artifact else {}
    started = {
        str(v.number): dict(v.run_metadata[RETRAINING_KEY])
        for v in model_versions
        if isinstance(v.run_metadata.get(RETRAINING_KEY), Mapping)
    }
    if not lines and not ahead and not shadows and not started:
        return None
    return {
        "versions": [
            {
                "model_version": version,
                "metric": line[-1].metric,
                "partitions": _values(lines.get(version, [])),
                "shadow": _values(shadows.get(version, [])),
                "look_ahead": [p.partition for p in ahead.get(version, [])[-TREND:]],
                "retraining": _retraining(started.get(version)),
            }
            for version in sorted({*lines, *ahead, *shadows}, key=_number)
            if (line := lines.get(version) or ahead.get(version) or shadows[version])
        ],
    }


def _values(points: list[Point]) -> list[dict[str, Any]]:
    return [{"partition": p.partition, "value": p.value, "rows": p.rows} for p in points[-TREND:]]


def describe(found: Mapping[str, Any] | None) -> list[str]:
    """The text lines of :func:`status`'s data."""
    lines = ["  realized quality (monitoring: labels joined to the predictions):"]
    if not found:
        return [*lines, "    none yet (run the monitoring job once labels arrive)"]
    for version in found["versions"]:
        trend = _trend_text(version["partitions"])
        lines.append(
            f"    version {version['model_version']} {version['metric']}: {trend or 'none yet'}"
        )
        if shadow := version.get("shadow"):
            lines.append(f"         in the shadow (challenger): {_trend_text(shadow)}")
        if ahead := version.get("look_ahead"):
            lines.append(
                f"         not counted (look-ahead: not newer than its training data): "
                f"{', '.join(ahead)}"
            )
        if started := version["retraining"]:
            lines.append(f"         started training {started['time']}: {started['reason']}")
    return lines


def _trend_text(values: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(f"{p['partition']} {p['value']:.4f} ({p['rows']} rows)" for p in values)


def _retraining(record: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not record:
        return None
    return {"reason": str(record.get("reason", "")), "time": str(record.get("time", ""))}


def picture(model_name: str, points: Iterable[Point], bar: float | None) -> str:
    """Realized quality over partitions, one row per partition and one column per model
    version (the dashboard's page); cells worse than ``bar`` are marked."""
    lines = trend(points)
    versions = list(lines)
    partitions = sorted({p.partition for line in lines.values() for p in line})
    metric = next((p.metric for line in lines.values() for p in line), "")
    cells = {(p.partition, v): p for v, line in lines.items() for p in line}
    rows, classes = [], []
    for key in partitions:
        found = [cells.get((key, v)) for v in versions]
        rows.append([key, *(f"{p.value:.4f} ({p.rows} rows)" if p else "" for p in found)])
        classes.append(["", *("" if p is None else _mark(p, bar) for p in found)])
    newest = _newest(lines)
    bars = pictures.bars(
        [(_label(p), p.value) for p in newest],
        limit=bar,
        limit_label="retrain_below",
        highlight=[_label(p) for p in newest if _mark(p, bar) == "bad"],
    )
    note = f"{metric} on the labelled rows of each scored partition" + (
        f"; retraining starts below {bar:.4f}" if bar is not None else ""
    )
    return pictures.page(
        f"{model_name}: realized quality",
        pictures.section(
            "by partition and model version",
            pictures.table(["partition", *(f"version {v}" for v in versions)], rows, classes),
            note=note,
        ),
        pictures.section("the newest partitions", bars),
        subtitle="labels joined to the predictions by the monitoring job",
    )


def _label(found: Point) -> str:
    return f"{found.partition} v{found.model_version}"


def worse(metric: str, value: float, bar: float) -> bool:
    """``value`` is worse than ``bar`` on ``metric``: above it for an error (rmse, mae),
    below it for a score."""
    from jobs.common.store.promotion import better

    return value != bar and not better(metric, value, bar)


def _mark(found: Point, bar: float | None) -> str:
    if bar is None:
        return ""
    return "bad" if worse(found.metric, found.value, bar) else "good"


def _newest(lines: Mapping[str, list[Point]], count: int = 20) -> list[Point]:
    every = sorted((p for line in lines.values() for p in line), key=lambda p: p.partition)
    return every[-count:]


def _number(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 30, version)
