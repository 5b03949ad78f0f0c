from __future__ import annotations

from typing import Annotated

from zenml import ArtifactConfig, get_step_context, step
from zenml.types import HTMLString

from jobs.monitoring import record
from jobs.monitoring.params import Measurement


@step(enable_cache=False)
def draw_realized_quality(
    measurement: Measurement,
) -> Annotated[HTMLString, ArtifactConfig(name="{dataset}_realized_quality")]:
    """The dashboard's picture: realized quality over partitions, per model version."""
    return HTMLString(record.picture(measurement))


@step(enable_cache=False)
def record_realized(measurement: Measurement) -> None:
    """Start training if the model decayed (once per model version), then record ``realized``
    on the predictions version: the record last, so a killed run is measured again."""
    record.realized_quality(measurement, str(get_step_context().pipeline_run.id))
