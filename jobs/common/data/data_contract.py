"""What a table must look like before any job writes anything derived from it.

Every check raises ``BadInput`` naming the file, the column and what to do, so a bad file is
rejected before a pipeline runs: nothing reaches the artifact store and no stage changes.
Reading the tables themselves is ``jobs.common.data.streaming``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from jobs.common.runtime.errors import BadInput

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
    problem = target_problem(df[target])
    if problem is not None:
        raise BadInput(f"{source}: target column {target!r} has {problem}")
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
    require_columns([str(c) for c in df.columns], expected, source)
    _require_numeric(df, source)


def require_columns(
    columns: list[str], expected: FeatureSchema, source: str, passthrough: Sequence[str] = ()
) -> None:
    """The model's feature columns and nothing else, besides the ``passthrough`` ones
    (identifiers copied into the predictions)."""
    missing = [c for c in (*expected, *passthrough) if c not in columns]
    extra = [c for c in columns if c not in expected and c not in passthrough]
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


def feature_schema(features: pd.DataFrame) -> FeatureSchema:
    return {str(name): str(dtype) for name, dtype in features.dtypes.items()}


def _require_rows(df: pd.DataFrame, source: str) -> None:
    if df.empty or len(df.columns) == 0:
        raise BadInput(f"{source}: the table is empty")


def _require_numeric(features: pd.DataFrame, source: str) -> None:
    check_values(features, source)


FLOAT32_MAX = float(np.finfo(np.float32).max)
"""scikit-learn's trees and forests cast features to float32 and reject anything larger."""


def check_values(frame: pd.DataFrame, source: str) -> None:
    """Reject every value a scikit-learn estimator would reject, before anything is written.

    One call per table, or per batch when a job streams: the first column holding a bad value
    raises ``BadInput`` naming the column, how many values of the kind it holds, and the kind.
    """
    for name in frame.columns:
        column = frame[name]
        if _plainly_valid(column):
            continue
        problem = column_problem(column)
        if problem is not None:
            raise BadInput(f"{source}: column {name!r} has {problem}")


def _plainly_valid(column: pd.Series) -> bool:
    """The common case in one pass, for a streaming job's every batch: a NumPy integer column,
    or a float column whose every value is finite and within float32's range (a NaN fails the
    comparison). False means "look closer" (``column_problem`` names what is wrong)."""
    dtype = column.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
        return False
    if dtype.kind in "iu":  # no gaps, and even 2**64 is far inside float32's range
        return True
    values = column.to_numpy()
    return bool(values.size == 0 or max(values.max(), -values.min()) <= FLOAT32_MAX)


def column_problem(column: pd.Series) -> str | None:
    """What an estimator would reject in one feature column, with a count; None if nothing."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) or not ptypes.is_numeric_dtype(dtype):
        bad = (
            sum(not _is_number(v) for v in column) if ptypes.is_object_dtype(dtype) else len(column)
        )
        return f"dtype {dtype}: {bad} non-numeric value(s); features must be numeric"
    if ptypes.is_bool_dtype(dtype):
        return f"dtype {dtype}: {len(column)} boolean value(s); features must be numeric"
    if ptypes.is_complex_dtype(dtype):
        return f"dtype {dtype}: {len(column)} complex value(s); features must be real numbers"
    missing = int(column.isna().sum())
    if missing:
        return f"{missing} missing value(s)"
    values = column.to_numpy(dtype=np.float64)
    infinite = int(np.isinf(values).sum())
    if infinite:
        return f"{infinite} non-finite value(s) (inf or -inf)"
    too_large = int((np.abs(values) > FLOAT32_MAX).sum())
    if too_large:
        return f"{too_large} value(s) beyond float32's range (|x| > {FLOAT32_MAX:.3g})"
    return None


def target_problem(column: pd.Series) -> str | None:
    """What a classifier would reject in its labels: gaps, non-finite or continuous values."""
    missing = int(column.isna().sum())
    if missing:
        return f"{missing} missing value(s)"
    if ptypes.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=np.float64)
        infinite = int(np.isinf(values).sum())
        if infinite:
            return f"{infinite} non-finite value(s) (inf or -inf)"
        continuous = int((values != np.round(values)).sum())
        if continuous:
            return f"{continuous} continuous value(s) (a fraction); a classifier needs class labels"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)
