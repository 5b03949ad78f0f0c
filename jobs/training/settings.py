from __future__ import annotations

from pydantic import Field

from jobs.common.chaining import Downstream
from jobs.common.runtime.settings import JobSettings
from jobs.training.params import ModelChoice


class Settings(ModelChoice, JobSettings):
    """The shared keys, the model choice (passed on in ``TrainingParams``), which dataset
    versions to train and test on, and which jobs to start after a promotion."""

    train_version: str | None = Field(None, description="training dataset version; null=latest")
    test_version: str | None = Field(None, description="testing dataset version; null=latest")
    skip_if_trained: bool = Field(
        False,
        description="an unpinned run (training's schedule, the fallback for a failed chained "
        "start) does nothing when production was trained and tested on these dataset versions",
    )
    downstream: Downstream = Field(
        ["batch-inference", "deployment"], description="jobs to start on a new production model"
    )
