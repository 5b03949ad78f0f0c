"""Building, fitting and scoring a classifier: plain functions, no ZenML."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from jobs.common.runtime.errors import BadInput
from jobs.training.params import Classifier, Metric

# One estimator per name the settings accept (jobs.training.params.Classifier).
CLASSIFIERS: dict[Classifier, type] = {
    "logistic_regression": LogisticRegression,
    "random_forest": RandomForestClassifier,
    "gradient_boosting": GradientBoostingClassifier,
    "decision_tree": DecisionTreeClassifier,
    "knn": KNeighborsClassifier,
}
# Unscaled iris needs more than the default 100 iterations to converge.
DEFAULTS: dict[str, dict[str, Any]] = {"logistic_regression": {"max_iter": 1000}}


def build(name: Classifier, hyperparameters: dict[str, Any], random_state: int) -> ClassifierMixin:
    """An unfitted classifier; an unknown hyperparameter is bad config, not a crash mid-run."""
    estimator_cls = CLASSIFIERS[name]
    params = {**DEFAULTS.get(name, {}), **hyperparameters}
    if "random_state" in estimator_cls().get_params():
        params.setdefault("random_state", random_state)
    try:
        estimator = estimator_cls().set_params(**params)
    except (ValueError, TypeError) as err:
        raise BadInput(f"hyperparameters for {name}: {err}") from err
    return estimator


def fit(estimator: ClassifierMixin, train: pd.DataFrame, target: str) -> ClassifierMixin:
    try:
        return estimator.fit(train.drop(columns=[target]), train[target])
    except (ValueError, TypeError) as err:
        raise BadInput(f"cannot train on the training dataset: {err}") from err


def score(model: ClassifierMixin, test: pd.DataFrame, target: str) -> dict[Metric, float]:
    predicted = model.predict(test.drop(columns=[target]))
    return {
        "accuracy": float(accuracy_score(test[target], predicted)),
        "f1_macro": float(f1_score(test[target], predicted, average="macro")),
    }
