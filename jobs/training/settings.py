from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from jobs.common.chaining import Downstream
from jobs.common.settings import JobSettings
from jobs.training.model import CLASSIFIERS, METRICS


class Settings(JobSettings):
    train_version: str | None = Field(None, description="training dataset version; null=latest")
    test_version: str | None = Field(None, description="testing dataset version; null=latest")
    classifier: Literal[tuple(CLASSIFIERS)] = Field(  # type: ignore[valid-type]
        "logistic_regression", description="one of " + ", ".join(CLASSIFIERS)
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="passed to the classifier"
    )
    metric: Literal[tuple(METRICS)] = Field(  # type: ignore[valid-type]
        "accuracy", description="one of " + ", ".join(METRICS)
    )
    threshold: float = Field(0.9, ge=0, le=1, description="minimum metric for production")
    random_state: int = Field(42, description="seed of the classifier")
    downstream: Downstream = Field(
        ["batch-inference", "deployment"], description="jobs to start on a new production model"
    )
