"""What a measurement leaves: the picture of realized quality, the training it starts when the
model decayed, and the record ``realized`` on the predictions version (last: a run killed before
it is measured again, and a start made twice is made once)."""

from __future__ import annotations

from jobs.common import chaining
from jobs.common.quality import realized
from jobs.common.store import model_registry
from jobs.monitoring.params import Measurement


def picture(measurement: Measurement) -> str:
    """Realized quality over partitions per model version: what is recorded, and this."""
    found = measurement.realized
    recorded = [
        p
        for p in realized.recorded(measurement.predictions_artifact)
        if p.predictions != measurement.predictions_version
    ]
    this = realized.Point(
        partition=measurement.partition,
        model_version=measurement.model_version,
        metric=found.metric,
        value=found.value,
        rows=found.rows,
        predictions=measurement.predictions_version,
        look_ahead=bool(found.look_ahead),
    )
    return realized.picture(measurement.model_name, [*recorded, this], measurement.retrain_below)


def realized_quality(measurement: Measurement, run_id: str) -> None:
    from uuid import UUID

    from zenml import log_metadata

    entry = measurement.realized
    if measurement.decay:
        entry = entry.model_copy(update={"retraining": retrain(measurement, run_id)})
    log_metadata(
        metadata={realized.METADATA_KEY: entry.model_dump(exclude_none=True)},
        artifact_version_id=UUID(measurement.predictions_id),
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
