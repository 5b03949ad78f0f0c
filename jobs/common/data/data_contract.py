"""What a table must look like before any job writes anything derived from it.

Feature engineering infers the table's schema (``jobs.common.data.schema``); every later job
holds its rows to that schema. Every refusal raises ``BadInput`` naming the file, the column, how
many values and what to do, before anything is written: nothing reaches the artifact store and no
stage changes. Refused: a missing column, a column that no longer holds its kind (a numeric
column now holding text), non-finite numbers or numbers beyond float32, a target of gaps only or
of one class, and — with ``missing: reject`` — any gap in a feature (else the model imputes it).
Rows without a target are dropped and counted. Categories the model never saw are counted per
column (``unseen: fail`` refuses them). Reading the tables is ``jobs.common.data.streaming``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from jobs.common.data.kinds import Unseen
from jobs.common.data.schema import (
    FLOAT32_MAX,
    MAX_RECORDED_CATEGORIES,
    Column,
    CountedCategories,
    TableSchema,
    infer,
    model_values,
)
from jobs.common.runtime.errors import BadInput

FeatureSchema = dict[str, str]
"""Feature column name -> pandas dtype name, in column order (recorded on each model version)."""


def validate_labelled(df: pd.DataFrame, target: str, source: str, **options: Any) -> TableSchema:
    """A training table: its schema (``options``: those of :func:`schema.infer`, e.g. ``kinds``
    or ``missing``), once every feature value fits its kind."""
    schema = infer(df, target, source, **options)
    check_features(df, schema, source)
    return schema


def with_target(df: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """The rows that have a target, and how many did not (dropped: nothing to learn from)."""
    known = df[target].notna()
    dropped = int(len(df) - known.sum())
    return (df if dropped == 0 else df.loc[known].reset_index(drop=True)), dropped


def require_columns(
    columns: Sequence[str], schema: TableSchema, source: str, passthrough: Sequence[str] = ()
) -> None:
    """The model's feature columns (plus the ``passthrough`` ones, identifiers copied into the
    predictions); besides them only columns the schema knows (identifiers, excluded text, the
    target) — a column the model has never seen is refused."""
    expected = list(schema.features)
    missing = [c for c in (*expected, *passthrough) if c not in columns]
    known = {*schema.columns, schema.target, *passthrough}
    extra = [c for c in columns if c not in known]
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


def check_features(
    frame: pd.DataFrame,
    schema: TableSchema,
    source: str,
    unseen: Unseen | None = None,
    categories: CountedCategories | None = None,
) -> dict[str, int]:
    """Every feature column of ``frame`` holds its recorded kind; with ``missing: reject`` no gap.
    One call per table, or per batch when a job streams (``categories``: the batch's, counted
    once for every check of it). Returns the unseen categories per column (only when ``unseen``
    is set; ``fail`` refuses them)."""
    if frame.empty or len(frame.columns) == 0:
        raise BadInput(f"{source}: the table is empty")
    require_present(frame, schema, source)
    categories = categories if categories is not None else CountedCategories(frame)
    found: dict[str, int] = {}
    for name, column in schema.features.items():
        series = frame[name]
        if column.kind == "numeric" and _plainly_valid(series):
            continue
        if column.kind != "categorical":  # any value reads as a category (its text)
            values, bad = model_values(series, column)
            if bad:
                raise BadInput(
                    f"{source}: column {name!r} has {bad} value(s) that are not {column.kind} "
                    f"(dtype {series.dtype}); the model was trained on a {column.kind} column"
                )
            if column.kind == "numeric" and (problem := _number_problem(values)):
                raise BadInput(f"{source}: column {name!r} has {problem}")
        if schema.missing_policy == "reject" and (gaps := int(series.isna().sum())):
            raise BadInput(
                f"{source}: column {name!r} has {gaps} missing value(s) (missing: reject)"
            )
        if unseen and column.kind == "categorical" and (count := _unseen(categories, name, column)):
            found[name] = count
            if unseen == "fail":
                raise BadInput(
                    f"{source}: column {name!r} has {count} value(s) of categories the model "
                    "never saw (unseen: fail)"
                )
    return found


def unseen_categories(
    frame: pd.DataFrame, schema: TableSchema, categories: CountedCategories | None = None
) -> dict[str, int]:
    """Per categorical feature with a complete record of its categories: how many of
    ``frame``'s values are of a category the model never saw (columns with none left out);
    ``categories``: the batch's, if counted already."""
    categories = categories if categories is not None else CountedCategories(frame)
    found = {}
    for name in counted_categories(schema):
        if count := _unseen(categories, name, schema.columns[name]):
            found[name] = count
    return found


def counted_categories(schema: TableSchema) -> list[str]:
    """The categorical features whose unseen categories can be counted: those whose every
    category seen was recorded."""
    return [
        name
        for name, column in schema.features.items()
        if column.kind == "categorical"
        and column.categories
        and (column.levels or 0) <= MAX_RECORDED_CATEGORIES
    ]


def require_present(frame: pd.DataFrame, schema: TableSchema, source: str) -> None:
    if missing := [c for c in schema.features if c not in frame.columns]:
        raise BadInput(
            f"{source}: missing column(s) {', '.join(map(repr, missing))} "
            "that the model was trained on"
        )


def _plainly_valid(column: pd.Series) -> bool:
    """The common case in one pass, for a streaming job's every batch: a NumPy integer column,
    or a float column whose every value is finite and within float32's range (a NaN fails the
    comparison). False means "look closer"."""
    dtype = column.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "fiu":
        return False
    if dtype.kind in "iu":  # no gaps, and even 2**64 is far inside float32's range
        return True
    values = column.to_numpy()
    return bool(values.size == 0 or max(values.max(), -values.min()) <= FLOAT32_MAX)


def _number_problem(values: np.ndarray) -> str | None:
    infinite = int(np.isinf(values).sum())
    if infinite:
        return f"{infinite} non-finite value(s) (inf or -inf)"
    with np.errstate(invalid="ignore"):
        too_large = int((np.abs(values) > FLOAT32_MAX).sum())
    if too_large:
        return f"{too_large} value(s) beyond float32's range (|x| > {FLOAT32_MAX:.3g})"
    return None


def _unseen(categories: CountedCategories, name: str, column: Column) -> int:
    """Values of column ``name`` whose category is not among those recorded (0, uncounted, when
    the record is incomplete: more levels than were recorded)."""
    if not column.categories or (column.levels or 0) > MAX_RECORDED_CATEGORIES:
        return 0
    return categories[name].outside(frozenset(column.categories))
