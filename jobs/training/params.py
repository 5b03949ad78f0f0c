"""What a training run is given: one typed object from settings to the pipeline to its steps.

Plain pydantic, no ZenML and no scikit-learn, so ``python -m jobs.training --help`` stays fast.
"""

from __future__ import annotations

from typing import Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Classifier = Literal[
    "logistic_regression", "random_forest", "gradient_boosting", "decision_tree", "knn"
]
Metric = Literal["accuracy", "f1_macro"]


class ModelChoice(BaseModel):
    """The estimator and how it is judged: configured by the user, passed on as they are."""

    classifier: Classifier = Field(
        "logistic_regression", description="one of " + ", ".join(get_args(Classifier))
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="passed to the classifier"
    )
    metric: Metric = Field("accuracy", description="one of " + ", ".join(get_args(Metric)))
    threshold: float = Field(0.9, ge=0, le=1, description="minimum metric for production")
    random_state: int = Field(42, description="seed of the classifier")


class DatasetRef(BaseModel):
    """One dataset version, resolved once before the pipeline runs."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    id: UUID

    def record(self) -> dict[str, str]:
        """What the model version records about the dataset it was trained or tested on."""
        return {"name": self.name, "version": self.version}


class TrainingParams(ModelChoice):
    """A run's whole input: the model choice plus the resolved datasets and their label."""

    model_config = ConfigDict(frozen=True)

    training: DatasetRef
    testing: DatasetRef
    target_column: str
