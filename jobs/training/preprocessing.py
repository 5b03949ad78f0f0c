"""The preprocessing inside the model, chosen by the columns' kinds and the estimator.

One ``Pipeline``: ``Conform`` (the raw columns read by their recorded kinds, datetimes as their
parts), a ``ColumnTransformer`` fitted on the training rows only, then the estimator.

- Histogram gradient boosting takes gaps and categories natively: numbers pass as they are,
  categories are coded by an ``OrdinalEncoder`` (the ``MAX_NATIVE_CATEGORIES - 1`` most frequent
  levels, the rest as one "infrequent" level; a category never seen in training is a gap) and
  the estimator is told which columns are categorical.
- Every other estimator: numbers imputed by their training median (and scaled for the linear
  models and nearest neighbours), categories one-hot encoded (at most ``MAX_ONE_HOT`` levels per
  column, the rest infrequent; an unseen category is infrequent or no level at all).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from jobs.common.data.features import (
    ClassifierPipeline,
    Conform,
    RegressorPipeline,
    date_part_names,
    specs,
)
from jobs.common.data.schema import TableSchema

MAX_NATIVE_CATEGORIES = 255
"""Histogram gradient boosting bins a category per bin: at most ``max_bins`` (255) of them."""
MAX_ONE_HOT = 64
NATIVE = (HistGradientBoostingClassifier, HistGradientBoostingRegressor)
SCALED = (LogisticRegression, Ridge, KNeighborsClassifier, KNeighborsRegressor)


def number_columns(schema: TableSchema) -> list[str]:
    """The columns ``Conform`` gives as numbers: numeric, boolean and the datetime parts."""
    names: list[str] = []
    for name, column in schema.features.items():
        if column.kind in ("numeric", "boolean"):
            names.append(name)
        elif column.kind == "datetime":
            names += date_part_names(name)
    return names


def model_pipeline(schema: TableSchema, estimator: BaseEstimator) -> Pipeline:
    numbers = number_columns(schema)
    categories = [n for n, c in schema.features.items() if c.kind == "categorical"]
    if isinstance(estimator, NATIVE):
        coded = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=MAX_NATIVE_CATEGORIES,
            dtype=np.float64,
        )
        prepare = ColumnTransformer(
            [("numbers", "passthrough", numbers), ("categories", coded, categories)],
            verbose_feature_names_out=False,
        )
        first = len(numbers)
        estimator.set_params(
            categorical_features=list(range(first, first + len(categories))) or None
        )
    else:
        steps: list[BaseEstimator] = [SimpleImputer(strategy="median", keep_empty_features=True)]
        if isinstance(estimator, SCALED):
            steps.append(StandardScaler())
        one_hot = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT)
        prepare = ColumnTransformer(
            [("numbers", make_pipeline(*steps), numbers), ("categories", one_hot, categories)],
            verbose_feature_names_out=False,
        )
    whole = RegressorPipeline if schema.task == "regression" else ClassifierPipeline
    return whole(
        [("conform", Conform(specs(schema))), ("prepare", prepare), ("estimator", estimator)]
    )
