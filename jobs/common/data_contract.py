"""What a table must look like before any job writes anything derived from it.

Every check raises ``BadInput`` naming the file, the column and what to do, so a bad file is
rejected before a pipeline runs: nothing reaches the artifact store and no stage changes.
Reading and writing the tables themselves is ``jobs.common.tables``.
"""

from __future__ import annotations

import pandas as pd
from pandas.api import types as ptypes

from jobs.common.errors import BadInput

FeatureSchema = dict[str, str]
"""Feature column name -> pandas dtype name, in column order (recorded on each model version)."""


def validate_labelled(df: pd.DataFrame, target: str, source: str) -> FeatureSchema:
    """A training table: a target column, at least one numeric feature, no gaps."""
    _require_rows(df, source)
    if target not in df.columns:
        raise BadInput(
            f"{source}: target column {target!r} is missing (columns: {', '.join(df.columns)}); "
            "set target_column to the label column"
        )
    if df[target].isna().any():
        raise BadInput(f"{source}: target column {target!r} has missing values")
    features = df.drop(columns=[target])
    if features.shape[1] == 0:
        raise BadInput(f"{source}: no feature columns besides the target {target!r}")
    _require_numeric(features, source)
    if df[target].nunique() < 2:
        raise BadInput(f"{source}: target column {target!r} has a single class; need at least 2")
    return feature_schema(features)


def validate_features(df: pd.DataFrame, expected: FeatureSchema, source: str) -> None:
    """Rows to predict on: exactly the model's feature columns, numeric, no gaps."""
    _require_rows(df, source)
    missing = [c for c in expected if c not in df.columns]
    extra = [c for c in df.columns if c not in expected]
    if missing:
        raise BadInput(
            f"{source}: missing column(s) {', '.join(map(repr, missing))} "
            "that the model was trained on"
        )
    if extra:
        raise BadInput(
            f"{source}: unexpected column(s) {', '.join(map(repr, extra))}; "
            f"the model expects exactly {', '.join(map(repr, expected))}"
        )
    _require_numeric(df, source)


def feature_schema(features: pd.DataFrame) -> FeatureSchema:
    return {str(name): str(dtype) for name, dtype in features.dtypes.items()}


def _require_rows(df: pd.DataFrame, source: str) -> None:
    if df.empty or len(df.columns) == 0:
        raise BadInput(f"{source}: the table is empty")


def _require_numeric(features: pd.DataFrame, source: str) -> None:
    for name in features.columns:
        column = features[name]
        if not ptypes.is_numeric_dtype(column) or ptypes.is_bool_dtype(column):
            raise BadInput(
                f"{source}: column {name!r} has dtype {column.dtype}; features must be numeric"
            )
        if column.isna().any():
            raise BadInput(
                f"{source}: column {name!r} has {int(column.isna().sum())} missing value(s)"
            )
