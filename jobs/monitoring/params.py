"""What one measurement is given and what it records: one typed object from the job to the
pipeline to its steps. Plain pydantic, no ZenML and no pandas, so ``--help`` stays fast."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Realized(BaseModel):
    """The predictions version's metadata ``realized``: the task's metrics on the labelled rows,
    and which labels they came from (evaluated once per labels identity)."""

    model_config = ConfigDict(frozen=True)

    metric: str
    """The model version's metric (the one its promotion was decided on)."""
    value: float
    values: dict[str, float]
    """Every metric of the task."""
    rows: int
    """Labelled rows joined to a prediction."""
    unmatched: int
    """Labelled ids with no prediction."""
    unlabelled: int
    """Predictions without a label."""
    labels: str
    labels_identity: str
    time: str
    look_ahead: bool | None = None
    """True: the partition's data is not newer than the model version's training data, so it
    is recorded but not counted (no trend, no retraining); None (not recorded): it is newer."""
    look_ahead_reason: str | None = None
    retraining: str | None = None
    """What became of the training this measurement started, if it started one."""
    promotion: str | None = None
    """On shadow predictions with ``promote_on: live``: what the live decision was."""


class Shadow(BaseModel):
    """The same labelled rows measured on the partition's shadow predictions (the staging
    challenger's, batch inference's ``shadow``)."""

    model_config = ConfigDict(frozen=True)

    predictions_version: str
    predictions_id: str
    model_version: str
    realized: Realized


class Measurement(BaseModel):
    """One partition's realized quality, on the predictions version it is recorded on."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    partition: str
    predictions_artifact: str
    predictions_version: str
    predictions_id: str
    model_name: str
    model_version: str
    realized: Realized
    retrain_below: float | None
    decay: str | None
    """Why the model version has decayed (its value is worse than retrain_below), or None."""
    downstream: list[str] = []
    """The jobs a decayed model starts (the settings' ``downstream``)."""
    training_pins: dict[str, str] = {}
    """The dataset versions a started training is pinned to (the newest)."""
    shadow: Shadow | None = None
    """The shadow predictions of the partition measured on the same labels, if there are any."""
    shadow_predictions_artifact: str = ""
    promote_on: str | None = None
    live_partitions: int = 3
    promoted_downstream: list[str] = []
    """The jobs a promotion on live labels starts (the settings' ``promoted_downstream``)."""
