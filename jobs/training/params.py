"""What a training run is given: one typed object from settings to the pipeline to its steps.

Plain pydantic, no ZenML and no scikit-learn, so ``python -m jobs.training --help`` stays fast.
"""

from __future__ import annotations

from typing import Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Classifier = Literal[
    "hist_gradient_boosting",
    "logistic_regression",
    "ridge",
    "random_forest",
    "gradient_boosting",
    "decision_tree",
    "knn",
]
"""The estimator family; each does classification and regression (its classifier or regressor)
except logistic_regression (classes only) and ridge (numbers only)."""
Metric = Literal["accuracy", "balanced_accuracy", "f1_macro", "rmse", "mae", "r2"]


class ModelChoice(BaseModel):
    """The estimator and how it is judged: configured by the user, passed on as they are."""

    classifier: Classifier = Field(
        "hist_gradient_boosting",
        description="the estimator (a classifier or regressor, by the task): one of "
        + ", ".join(get_args(Classifier)),
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="passed to the classifier"
    )
    metric: Metric | Literal["auto"] = Field(
        "auto",
        description="what promotion judges: auto (balanced_accuracy for classes, rmse for "
        "numbers) or one of " + ", ".join(get_args(Metric)),
    )
    threshold: float = Field(
        0.9,
        ge=0,
        le=1,
        description="minimum score for production (rmse and mae have none: they must beat the "
        "trivial baseline)",
    )
    random_state: int = Field(42, description="seed of the estimator and the sample")
    max_training_rows: int = Field(
        1_000_000,
        gt=0,
        description="fit on a uniform sample of at most this many training rows (recorded on "
        "the model version), so training stays inside its pod",
    )


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
    """A run's whole input: the model choice plus the resolved datasets, their label and the
    schema feature engineering recorded on them."""

    model_config = ConfigDict(frozen=True)

    training: DatasetRef
    testing: DatasetRef
    target_column: str
    metric: Metric  # resolved: never "auto"
    schema_record: dict[str, Any]
    """The training dataset's schema (``jobs.common.data.schema``; for a dataset published
    before schemas were recorded: its features as numbers, as they had to be then)."""
