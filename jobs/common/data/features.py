"""The first step of every model: the raw table's feature columns as the model takes them.

``Conform`` is a scikit-learn transformer built from the recorded schema. It selects the feature
columns and reads each by its kind with :func:`jobs.common.data.schema.model_values` — numbers,
booleans as 1/0, categories as text, a datetime as its parts — so the fitted pipeline training
stores takes a raw table (from parquet, CSV or JSON alike) and batch inference and serving need
nothing else to apply exactly what training fitted. It lives in the kernel because every job
that loads a model unpickles it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
from sklearn.pipeline import Pipeline

from jobs.common.data.schema import DATE_PARTS, Column, TableSchema, model_values

FeatureSpec = tuple[str, str, str | None]
"""(column, kind, datetime format): plain values, so a pickled model does not depend on the
schema classes' shape."""


def specs(schema: TableSchema) -> list[FeatureSpec]:
    return [(name, column.kind, column.format) for name, column in schema.features.items()]


def date_part_names(name: str) -> list[str]:
    return [f"{name}__{part}" for part in DATE_PARTS]


class Conform(TransformerMixin, BaseEstimator):
    """Raw rows -> one column per numeric/boolean feature (float64), one per categorical
    feature (text, NaN for a gap) and ``<name>__<part>`` per datetime part (float64)."""

    def __init__(self, features: Sequence[FeatureSpec] = ()) -> None:
        self.features = features

    def fit(self, X: pd.DataFrame, y: Any = None) -> Conform:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for name, kind, fmt in self.features:
            values, _ = model_values(X[name], Column(kind=kind, format=fmt))  # type: ignore[arg-type]
            if kind == "datetime":
                times = pd.DatetimeIndex(values)
                for part, column in zip(DATE_PARTS, date_part_names(name), strict=True):
                    out[column] = getattr(times, part).to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                out[name] = values.to_numpy() if isinstance(values, pd.Series) else values
        return pd.DataFrame(out, index=X.index, copy=False)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names: list[str] = []
        for name, kind, _ in self.features:
            names += date_part_names(name) if kind == "datetime" else [name]
        return np.asarray(names, dtype=object)


class ClassifierPipeline(ClassifierMixin, Pipeline):
    """The whole model of a classification task: a ``Pipeline`` that is a classifier, so a
    consumer typing its input ``ClassifierMixin`` (the seed's pattern) takes it."""


class RegressorPipeline(RegressorMixin, Pipeline):
    """The whole model of a regression task: a ``Pipeline`` that is a regressor."""
