"""Rows to predict on and the predictions table: plain functions, no ZenML."""

from __future__ import annotations

import pandas as pd
from sklearn.base import ClassifierMixin

from jobs.common.tables import fingerprint, parse_table, read_bytes

BUILTIN_IRIS = "iris"


def iris_features() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).data
    return frame.rename(columns=lambda c: c.replace(" (cm)", "_cm").replace(" ", "_"))


def load(uri: str) -> tuple[pd.DataFrame, str]:
    """The table and a fingerprint of its content (what the pipeline's cache keys on)."""
    if uri == BUILTIN_IRIS:
        return iris_features(), "builtin:iris"
    data = read_bytes(uri)
    return parse_table(data, uri), fingerprint(data)


def predict(model: ClassifierMixin, features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"prediction": model.predict(features)}, index=features.index)
