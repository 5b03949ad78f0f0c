"""What a measurement leaves: the picture of realized quality, the training it starts when the
model decayed, and the record ``realized`` on the predictions version (last: a run killed before
it is measured again, and a start made twice is made once)."""

from __future__ import annotations

from jobs.common import chaining
from jobs.common.quality import realized
from jobs.common.store import model_registry, promotion
from jobs.common.store.promotion import LIVE
from jobs.monitoring.params import Measurement, Shadow


def picture(measurement: Measurement) -> str:
    """Realized quality over partitions per model version: what is recorded, and this."""
    points = _with(measurement.predictions_artifact, _point(measurement))
    return realized.picture(measurement.model_name, points, measurement.retrain_below)


def _point(measurement: Measurement, shadow: Shadow | None = None) -> realized.Point:
    """The point this measurement adds (on the shadow predictions with ``shadow``) before it
    is recorded."""
    on = measurement if shadow is None else shadow
    return realized.Point(
        partition=measurement.partition,
        model_version=on.model_version,
        metric=on.realized.metric,
        value=on.realized.value,
        rows=on.realized.rows,
        predictions=on.predictions_version,
        look_ahead=bool(on.realized.look_ahead),
    )


def _with(artifact: str, this: realized.Point) -> list[realized.Point]:
    """What is recorded on ``artifact``'s versions, and ``this`` (instead of its own record)."""
    return [p for p in realized.recorded(artifact) if p.predictions != this.predictions] + [this]


def realized_quality(measurement: Measurement, run_id: str) -> None:
    from uuid import UUID

    from zenml import log_metadata

    entry = measurement.realized
    if measurement.decay:
        entry = entry.model_copy(update={"retraining": retrain(measurement, run_id)})
    shadow = measurement.shadow
    if shadow is not None and measurement.promote_on == LIVE:
        promoted = promote_live(measurement, shadow, run_id)
        shadow = shadow.model_copy(
            update={"realized": shadow.realized.model_copy(update={"promotion": promoted})}
        )
    for recorded, version_id in (
        (entry, measurement.predictions_id),
        *([(shadow.realized, shadow.predictions_id)] if shadow else []),
    ):
        log_metadata(
            metadata={realized.METADATA_KEY: recorded.model_dump(exclude_none=True)},
            artifact_version_id=UUID(version_id),
        )


def promote_live(measurement: Measurement, shadow: Shadow, run_id: str) -> str:
    """Promote the challenger (the newest staging version) if it beat production on each of
    the last ``live_partitions`` labelled partitions, through the same lock and record as
    training's promotion (basis ``live``, with the evidence), and start what follows a
    promotion; what was decided, as one line. Once: the promoted version is production then,
    and no staging version shadows it until another one is trained."""
    name = measurement.model_name
    champion = model_registry.production_version(name)
    challenger = model_registry.newest_staging(name)
    if champion is None or challenger is None:
        return (
            f"no decision: {name} has no {'production' if champion is None else 'staging'} version"
        )
    number, against = str(challenger.number), str(champion.number)
    measured = realized.live(
        _with(measurement.predictions_artifact, _point(measurement)),
        _with(measurement.shadow_predictions_artifact, _point(measurement, shadow)),
        champion=against,
        challenger=number,
    )
    decision = promotion.decide_live(
        measurement.realized.metric,
        measured,
        measurement.live_partitions,
        challenger=f"{name} version {number}",
    )
    if not decision.promote:
        print(decision.reason, flush=True)
        return decision.reason
    record = model_registry.promote_challenger(
        name, number, against, decision, decided_by=f"monitoring pipeline run {run_id}"
    )
    if record is None:
        line = (
            f"not promoted: {name}'s stages changed meanwhile (version {against} is no longer "
            f"production, or version {number} left staging)"
        )
        print(line, flush=True)
        return line
    upstream = chaining.Upstream("monitoring", number, run_id)
    starts = chaining.after_promotion(
        measurement.promoted_downstream, upstream, predictions=measurement.predictions_artifact
    )
    return f"promoted {name} version {number} to production: {decision.reason}" + (
        f"; {'; '.join(starts)}" if starts else ""
    )


def retrain(measurement: Measurement, run_id: str) -> str:
    """Start training for the decayed model version, once: a version that started one
    already (its record ``retraining``) starts none, and the start's name is the model
    version's, so a start made twice (a rerun after a kill) is made once. What became of it
    is recorded on the model version with the reason; a start that did not happen (chaining
    off, failed) is not, so the next measurement tries again."""
    name, number = measurement.model_name, measurement.model_version
    earlier = model_registry.get_version(name, number).run_metadata.get(realized.RETRAINING_KEY)
    if earlier or not measurement.downstream:
        line = (
            f"not starting training: {name} version {number} started one already "
            f"({earlier.get('time')}: {earlier.get('reason')})"
            if earlier
            else "not starting training: downstream is empty"
        )
        print(line, flush=True)
        return line
    upstream = chaining.Upstream("monitoring", f"{name}-{number}", run_id)
    pins = {"training": measurement.training_pins}
    line = chaining.start_next(measurement.downstream, upstream, pins_by_job=pins)[0]
    if line.startswith((chaining.Outcome.STARTED.value, chaining.Outcome.ALREADY_STARTED.value)):
        model_registry.record(
            name,
            number,
            realized.RETRAINING_KEY,
            {
                "reason": measurement.decay,
                "partition": measurement.partition,
                "predictions": measurement.predictions_version,
                "metric": measurement.realized.metric,
                "value": measurement.realized.value,
                "retrain_below": measurement.retrain_below,
                "start": line,
                "time": model_registry.now(),
            },
        )
    return line
