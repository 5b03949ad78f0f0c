"""Building, fitting and scoring the model: plain functions, no ZenML.

The model is one scikit-learn ``Pipeline``: the recorded schema's reading of the raw columns
(``Conform``), the preprocessing fitted on the training rows (``jobs.training.preprocessing``),
then the estimator. Batch inference and serving apply that whole pipeline to raw rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from jobs.common.data.kinds import Task
from jobs.common.quality.metrics import metrics
from jobs.common.runtime.errors import BadInput
from jobs.training.params import Metric

# One estimator per name the settings accept (jobs.training.params.Classifier), per task.
ESTIMATORS: dict[Task, dict[str, type]] = {
    "classification": {
        "hist_gradient_boosting": HistGradientBoostingClassifier,
        "logistic_regression": LogisticRegression,
        "random_forest": RandomForestClassifier,
        "gradient_boosting": GradientBoostingClassifier,
        "decision_tree": DecisionTreeClassifier,
        "knn": KNeighborsClassifier,
    },
    "regression": {
        "hist_gradient_boosting": HistGradientBoostingRegressor,
        "ridge": Ridge,
        "random_forest": RandomForestRegressor,
        "gradient_boosting": GradientBoostingRegressor,
        "decision_tree": DecisionTreeRegressor,
        "knn": KNeighborsRegressor,
    },
}
# Unscaled iris needs more than the default 100 iterations to converge; imbalanced classes get
# weights that make every class count alike.
DEFAULTS: dict[tuple[Task, str], dict[str, Any]] = {
    ("classification", "logistic_regression"): {"max_iter": 1000},
    ("classification", "hist_gradient_boosting"): {"class_weight": "balanced"},
}
METRICS: dict[Task, tuple[Metric, ...]] = {
    "classification": ("accuracy", "balanced_accuracy", "f1_macro"),
    "regression": ("rmse", "mae", "r2"),
}
DEFAULT_METRIC: dict[Task, Metric] = {"classification": "balanced_accuracy", "regression": "rmse"}


def build(
    name: str, hyperparameters: dict[str, Any], random_state: int, task: Task | None = None
) -> BaseEstimator:
    """An unfitted estimator for ``task`` (None: whichever task knows the name, to check the
    configuration before anything runs); an unknown hyperparameter is bad config, not a crash."""
    tasks: list[Task] = [task] if task else list(ESTIMATORS)
    chosen = next((t for t in tasks if name in ESTIMATORS[t]), None)
    if chosen is None:
        known = ", ".join(ESTIMATORS[tasks[0]])
        raise BadInput(f"classifier {name!r} does not do {tasks[0]}; use one of {known}")
    estimator_cls = ESTIMATORS[chosen][name]
    params = {**DEFAULTS.get((chosen, name), {}), **hyperparameters}
    if "random_state" in estimator_cls().get_params():
        params.setdefault("random_state", random_state)
    try:
        estimator = estimator_cls().set_params(**params)
    except (ValueError, TypeError) as err:
        raise BadInput(f"hyperparameters for {name}: {err}") from err
    return estimator


def fit(model: Pipeline, train: pd.DataFrame, target: str) -> Pipeline:
    """Fit on ``train``'s rows, consuming them: the target is taken out (no copy of the rest),
    and once the preprocessing has turned them into the estimator's matrix the frame is
    emptied, so the rows are never held three times (what bounds training's peak memory)."""
    labels = train.pop(target)
    try:
        matrix = model[:-1].fit_transform(train, labels)  # the same step objects as model's
        train.drop(columns=list(train.columns), inplace=True)
        model[-1].fit(matrix, labels)
        return model
    except (ValueError, TypeError) as err:
        raise BadInput(f"cannot train on the training dataset: {err}") from err


def score(model: Any, test: pd.DataFrame, target: str, task: Task = "classification") -> dict:
    """Every metric of the task on the testing rows (``model``: a pipeline or a baseline)."""
    return metrics(test[target], model.predict(test.drop(columns=[target])), task)


def baseline(train_target: Any, test_target: Any, task: Task) -> dict[str, float]:
    """What a trivial model scores: the training mean (regression) or its class shares."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    dummy = DummyRegressor() if task == "regression" else DummyClassifier(strategy="prior")
    dummy.fit(np.zeros((len(train_target), 1)), train_target)
    return metrics(test_target, dummy.predict(np.zeros((len(test_target), 1))), task)
