"""The monitoring job: the labels that arrived for a scored partition, joined to its newest
predictions and scored with the task's metrics, recorded once per labels identity on that
predictions version (metadata ``realized``); a model whose realized metric is worse than
``retrain_below`` starts training (once per model version, with the reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jobs.common.data import streaming
from jobs.common.quality import realized
from jobs.common.runtime.connection import connect
from jobs.common.runtime.errors import BadInput, PreconditionNotMet
from jobs.common.store import artifacts, model_registry, stuck_runs
from jobs.monitoring import join
from jobs.monitoring.params import Measurement, Realized, Shadow
from jobs.monitoring.settings import Settings

log = logging.getLogger("handoff")


def run(settings: Settings, say: Callable[[str], None] = print) -> int:
    key = settings.partition_key()  # bad settings: exit 2 before anything is read
    uri = settings.labels_uri(key)
    connect()
    source = streaming.landed(uri)
    if source is None:
        say(f"the labels of partition {key} are not there yet ({uri}); nothing to do")
        return 0
    predictions = artifacts.newest_of_partition(settings.predictions_artifact, key)
    if predictions is None:
        raise PreconditionNotMet(
            f"partition {key} has no predictions in {settings.predictions_artifact} yet; run "
            f"batch inference for it first (handoff run batch-inference --partition {key})"
        )
    name = f"{settings.predictions_artifact} version {predictions.version}"
    shadow = artifacts.newest_of_partition(settings.shadow_predictions_artifact, key)
    done = _measured(predictions, source)
    if done and (shadow is None or _measured(shadow, source)):
        say(
            f"partition {key}: {name} was measured on these labels already ({done.get('metric')}"
            f" {float(done.get('value', 0)):.4f} on {done.get('rows')} rows); nothing to do"
        )
        return 0
    measurement = measure(settings, key, source, predictions)
    if shadow is not None:
        challenger = measure(settings, key, source, shadow)
        measurement = measurement.model_copy(
            update={
                "shadow": Shadow(
                    predictions_version=challenger.predictions_version,
                    predictions_id=challenger.predictions_id,
                    model_version=challenger.model_version,
                    realized=challenger.realized,
                )
            }
        )
    _run_pipeline(measurement)
    found = measurement.realized
    say(
        f"partition {key}: realized {found.metric} {found.value:.4f} on {found.rows} labelled "
        f"rows ({found.unmatched} labelled id(s) without a prediction, {found.unlabelled} "
        f"prediction(s) without a label), recorded on {name}"
        + (f"; {measurement.decay}" if measurement.decay else "")
        + (f"; not counted, look-ahead: {found.look_ahead_reason}" if found.look_ahead else "")
    )
    if measurement.shadow is not None:
        _say_shadow(settings, measurement.shadow, say)
    return 0


def _measured(predictions: Any, source: streaming.Source) -> dict[str, Any] | None:
    """The realized record of ``predictions`` if it was measured on these labels, else None."""
    done = predictions.run_metadata.get(realized.METADATA_KEY) or {}
    return done if done.get("labels_identity") == source.identity else None


def _say_shadow(settings: Settings, shadow: Shadow, say: Callable[[str], None]) -> None:
    """The challenger's value on the same rows, and what the live decision was (as this run
    recorded it on the shadow predictions version)."""
    found = shadow.realized
    say(
        f"shadow: {settings.model_name} version {shadow.model_version} (challenger) realized "
        f"{found.metric} {found.value:.4f} on {found.rows} labelled rows, recorded on "
        f"{settings.shadow_predictions_artifact} version {shadow.predictions_version}"
    )
    recorded = artifacts.find(settings.shadow_predictions_artifact, shadow.predictions_version)
    entry = (recorded.run_metadata.get(realized.METADATA_KEY) or {}) if recorded else {}
    if entry.get("promotion"):
        say(f"live: {entry['promotion']}")


def measure(
    settings: Settings, key: str, source: streaming.Source, predictions: Any
) -> Measurement:
    """Read, check and join the labels (exit 2 naming what is wrong, before anything is
    recorded), and decide whether the model decayed."""
    meta = predictions.run_metadata
    model_version = str(meta.get("model_version", ""))
    model = model_registry.get_version(settings.model_name, model_version).run_metadata
    task = str(model.get("task") or (model.get("schema") or {}).get("task") or "classification")
    target = settings.target_column or str(model.get("target_column") or "")
    if not target:
        raise BadInput("target_column is not set and the model records none: --target-column")
    ids = settings.id_columns or [str(c) for c in meta.get("id_columns") or []]
    if not ids:
        raise BadInput(
            f"id_columns is not set and {settings.predictions_artifact} version "
            f"{predictions.version} carries none: set id_columns (and score with --id-columns)"
        )
    promotion = model.get(model_registry.PROMOTION_KEY) or {}
    metric = str(promotion.get("metric") or join.DEFAULT_METRIC[task])
    labels = join.read_labels(source, ids, target, task, settings.batch_rows)  # type: ignore[arg-type]
    scored = join.read_predictions(str(predictions.uri), ids, settings.batch_rows)
    joined = join.join(labels, scored, ids, target, task, source.uri)  # type: ignore[arg-type]
    value = joined.values[metric]
    ahead = _look_ahead(settings, key, model)
    # A look-ahead partition says nothing of how the version does on unseen data: no decay.
    decay = None if ahead else join.decay(metric, value, settings.retrain_below, key)
    return Measurement(
        dataset=settings.dataset,
        partition=key,
        predictions_artifact=settings.predictions_artifact,
        predictions_version=str(predictions.version),
        predictions_id=str(predictions.id),
        model_name=settings.model_name,
        model_version=model_version,
        realized=Realized(
            metric=metric,
            value=value,
            values=joined.values,
            rows=joined.rows,
            unmatched=joined.unmatched,
            unlabelled=joined.unlabelled,
            labels=source.uri,
            labels_identity=source.identity,
            time=model_registry.now(),
            look_ahead=True if ahead else None,
            look_ahead_reason=ahead,
        ),
        retrain_below=settings.retrain_below,
        decay=decay,
        downstream=list(settings.downstream),
        training_pins=_newest_datasets(settings) if decay else {},
        shadow_predictions_artifact=settings.shadow_predictions_artifact,
        promote_on=settings.promote_on,
        live_partitions=settings.live_partitions,
        promoted_downstream=list(settings.promoted_downstream),
    )


def _look_ahead(settings: Settings, key: str, model: Any) -> str | None:
    """Why ``key`` is look-ahead for the model version (its run metadata ``model``), or None."""
    try:
        start = settings.schedule().parse(key, "partition")
    except BadInput:
        return None  # a key that is no time: nothing to judge by
    return realized.look_ahead(key, start, realized.trained_on(model))


def _newest_datasets(settings: Settings) -> dict[str, str]:
    """The newest training and testing dataset versions: what a started training is pinned to
    (a pinned training always trains; an unpinned one may find production trained on them)."""
    pins = {}
    for key, name in (
        ("train_version", settings.training_dataset),
        ("test_version", settings.testing_dataset),
    ):
        found = artifacts.newest(name)
        if found is not None:
            pins[key] = str(found.version)
    return pins


def _run_pipeline(measurement: Measurement) -> None:
    from jobs.monitoring.pipeline import monitoring

    with stuck_runs.running("monitoring") as tags:
        monitoring.with_options(tags=tags, substitutions={"dataset": measurement.dataset})(
            measurement=measurement
        )
