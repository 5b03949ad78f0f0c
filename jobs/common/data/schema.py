"""A table's typed schema: what kind each column is, inferred once by feature engineering and
recorded on both datasets and on the model version, so every later job reads the same table the
same way. Plain functions over pandas, no ZenML.

Kinds: ``numeric``, ``categorical`` (text; integers only when configured), ``boolean`` (true/false,
yes/no, 0/1 ...), ``datetime`` (a datetime dtype, ISO 8601 or a common date spelling, the spelling
recorded), ``identifier`` (kept out of the features, carried along) and ``text`` (free text,
excluded from the features and named in the log). The first four are features.

:func:`model_values` turns one column into what the model takes for its kind (numbers, or text
for categories) and counts the values that do not fit the kind: the data contract refuses those,
and the model's first step (``jobs.common.data.features.Conform``) applies the very same function,
so training, batch inference and serving read a value alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import BaseModel, ConfigDict

from jobs.common.data.kinds import FEATURE_KINDS, KINDS, Kind, Missing, Task
from jobs.common.runtime.errors import BadInput

log = logging.getLogger("handoff")


SCHEMA_KEY = "schema"
"""The run-metadata key of the recorded schema (datasets and model versions)."""
MAX_RECORDED_CATEGORIES = 1000
"""Categories recorded per column (the most frequent first); the model itself keeps all it saw."""
MAX_CLASSES = 20
"""A numeric target with more distinct values than this is a quantity (regression)."""
HIGH_CARDINALITY = 0.5
"""A text column with more distinct values than this share of its rows (and more than
``MIN_LEVELS_TO_EXCLUDE``) names things (an identifier) or says things (free text)."""
MIN_LEVELS_TO_EXCLUDE = 50
LONG_TEXT = 40
"""Values this long on average are free text, whatever their number."""

TRUE = frozenset({"true", "yes", "y", "t", "1", "on"})
FALSE = frozenset({"false", "no", "n", "f", "0", "off"})
BOOLEAN_WORDS = {**{w: 1.0 for w in TRUE}, **{w: 0.0 for w in FALSE}}
# Tried in order on text that is not a number; the first that reads every sampled value wins.
DATE_FORMATS = (
    "ISO8601",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%Y%m%d",
)
DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")
FLOAT32_MAX = float(np.finfo(np.float32).max)
"""scikit-learn's trees and forests cast features to float32 and reject anything larger."""


class Column(BaseModel):
    """One column's kind and what was seen of it (JSON-able for run metadata)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: Kind
    dtype: str = "float64"
    """The dtype it was read with."""
    missing: float = 0.0
    """Share of gaps in the table the schema was inferred from."""
    categories: list[str] | None = None
    """categorical: the levels seen, most frequent first (at most MAX_RECORDED_CATEGORIES)."""
    levels: int | None = None
    """categorical: how many levels were seen in all."""
    min: float | str | None = None
    max: float | str | None = None
    """numeric: the range seen; datetime: the first and last time (ISO 8601)."""
    format: str | None = None
    """datetime read from text: the spelling (``ISO8601`` or a strftime pattern)."""


class TableSchema(BaseModel):
    """Every column of a labelled table but the target, in order, and what the target is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    columns: dict[str, Column]
    target: str
    task: Task
    classes: list[str] | None = None
    """classification: the classes seen, as text, sorted."""
    missing_policy: Missing = "impute"
    """Gaps in a feature: imputed by the model, or refused by the data contract."""
    id_columns: list[str] = []
    """Configured identifiers: carried into the datasets and the predictions."""

    @property
    def features(self) -> dict[str, Column]:
        return {n: c for n, c in self.columns.items() if c.kind in FEATURE_KINDS}

    def of_kind(self, *kinds: str) -> list[str]:
        return [n for n, c in self.columns.items() if c.kind in kinds]

    def to_metadata(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def feature_dtypes(self) -> dict[str, str]:
        """Feature name -> dtype read (the ``feature_schema`` every version also records)."""
        return {n: c.dtype for n, c in self.features.items()}


def from_metadata(metadata: Mapping[str, Any]) -> TableSchema | None:
    """The schema a dataset or model version recorded; for one recorded before schemas were
    (only ``feature_schema``: name -> dtype), all numeric and gaps refused, as they were then."""
    recorded = metadata.get(SCHEMA_KEY)
    if isinstance(recorded, Mapping):
        return TableSchema.model_validate(dict(recorded))
    dtypes = metadata.get("feature_schema")
    if not isinstance(dtypes, Mapping):
        return None
    classes = metadata.get("classes")
    return TableSchema(
        columns={str(n): Column(kind="numeric", dtype=str(d)) for n, d in dtypes.items()},
        target=str(metadata.get("target_column") or "target"),
        task="classification",
        classes=[str(c) for c in classes] if isinstance(classes, list) else None,
        missing_policy="reject",
    )


def infer(frame: pd.DataFrame, target: str, source: str, **options: Any) -> TableSchema:
    """The schema of a table held whole: its :func:`draft` (``options``: its keywords), then
    one :class:`Tally` of it."""
    tally = Tally(draft(frame, target, source, **options))
    tally.update(frame, source)
    return tally.schema(source)


def draft(
    frame: pd.DataFrame,
    target: str,
    source: str,
    *,
    kinds: Mapping[str, str] | None = None,
    id_columns: Sequence[str] = (),
    drop_columns: Sequence[str] = (),
    task: str = "auto",
    missing: Missing = "impute",
) -> TableSchema:
    """Each column's kind (``kinds`` overrides any; datetime with its spelling) and the task,
    from a sample of the table (its first rows): no statistics yet — a :class:`Tally` of every
    row adds them. ``BadInput`` for a column named in the configuration that is not there."""
    if frame.empty or len(frame.columns) == 0:
        raise BadInput(f"{source}: the table is empty")
    kinds = dict(kinds or {})
    named = [*kinds, *id_columns, *drop_columns, target]
    if absent := [n for n in dict.fromkeys(named) if n not in frame.columns]:
        which = "target column" if absent[0] == target else "column"
        raise BadInput(
            f"{source}: {which} {absent[0]!r} is missing (columns: "
            f"{', '.join(map(str, frame.columns))}); check target_column, columns, id_columns "
            "and drop_columns"
        )
    for name, configured in kinds.items():
        if configured not in KINDS:
            raise BadInput(f"columns: {name!r}: unknown kind {configured!r}; one of {KINDS}")
    columns: dict[str, Column] = {}
    for name in frame.columns:
        if name == target or name in drop_columns:
            continue
        series = frame[name]
        kind: Kind = kinds.get(name) or (  # type: ignore[assignment]
            "identifier" if name in id_columns else guess_kind(series)
        )
        fmt = None
        if kind == "datetime" and not ptypes.is_datetime64_any_dtype(series.dtype):
            fmt = date_format(series.dropna().astype(str).unique()) or "ISO8601"
        columns[str(name)] = Column(kind=kind, dtype=str(series.dtype), format=fmt)
    excluded = {n: c.kind for n, c in columns.items() if c.kind in ("identifier", "text")}
    if excluded:
        log.info(
            "%s: not features: %s",
            source,
            ", ".join(f"{n} ({k})" for n, k in excluded.items()),
            extra={"excluded": excluded},
        )
    if not any(c.kind in FEATURE_KINDS for c in columns.values()):
        raise BadInput(
            f"{source}: no feature columns besides the target {target!r}"
            + (f" (not features: {', '.join(excluded)})" if excluded else "")
        )
    return TableSchema(
        columns=columns,
        target=target,
        task=task_of(frame[target], source, task),
        missing_policy=missing,
        id_columns=list(id_columns),
    )


def task_of(labels: pd.Series, source: str, task: str = "auto") -> Task:
    """Classification or regression: as configured, else from a sample of the target
    (``type_of_target``; numbers with more than MAX_CLASSES values are a quantity)."""
    from sklearn.utils.multiclass import type_of_target

    known = labels.dropna()
    numeric = ptypes.is_numeric_dtype(known.dtype) and not ptypes.is_bool_dtype(known.dtype)
    if task == "auto":
        if known.empty:
            return "classification"  # the tally refuses a target of gaps only
        values = known.to_numpy()
        finite = values[np.isfinite(values)] if numeric else values
        kind = type_of_target(finite) if len(finite) else "unknown"
        many = numeric and known.nunique() > MAX_CLASSES
        task = "regression" if kind == "continuous" or many else "classification"
        log.info("%s: target %r is %s (%s)", source, labels.name, task, kind)
    if task == "regression" and not numeric and not known.empty:
        raise BadInput(
            f"{source}: target column {labels.name!r} has dtype {labels.dtype}: regression "
            "needs numbers; set task: classification"
        )
    return "regression" if task == "regression" else "classification"


def infer_task(labels: pd.Series, source: str, task: str = "auto") -> tuple[Task, list[str] | None]:
    """The task and the classes of a target held whole (``BadInput`` as :class:`Tally`)."""
    tally = TargetTally(str(labels.name), task_of(labels, source, task))
    tally.update(labels, source)
    return tally.task, tally.classes(source)


class TargetTally:
    """The target over every batch: its gaps, and its classes (classification) or that every
    value is a finite number (regression)."""

    def __init__(self, name: str, task: Task) -> None:
        self.name, self.task = name, task
        self.rows = self.gaps = 0
        self.counts: dict[str, int] = {}

    def update(self, labels: pd.Series, where: str) -> None:
        self.rows += len(labels)
        known = labels.dropna()
        self.gaps += len(labels) - len(known)
        numeric = ptypes.is_numeric_dtype(known.dtype) and not ptypes.is_bool_dtype(known.dtype)
        if numeric:
            values = known.to_numpy(dtype=np.float64)
            if infinite := int(np.isinf(values).sum()):
                raise BadInput(
                    f"{where}: target column {self.name!r} has {infinite} non-finite value(s)"
                )
        elif self.task == "regression" and len(known):
            raise BadInput(
                f"{where}: target column {self.name!r} has dtype {labels.dtype}: regression "
                "needs numbers; set task: classification"
            )
        if self.task == "regression":
            return
        if numeric and ptypes.is_float_dtype(known.dtype):
            values = known.to_numpy(dtype=np.float64)
            if fractions := int((values != np.round(values)).sum()):
                raise BadInput(
                    f"{where}: target column {self.name!r} has {fractions} continuous value(s) "
                    "(a fraction); a classifier needs class labels (or set task: regression)"
                )
        for label, count in known.value_counts().items():
            key = label_text(label)
            self.counts[key] = self.counts.get(key, 0) + int(count)

    def classes(self, source: str) -> list[str] | None:
        if self.rows == self.gaps:
            raise BadInput(
                f"{source}: target column {self.name!r} has only missing values ({self.gaps} "
                f"of {self.rows}); nothing to learn from"
            )
        if self.task == "regression":
            return None
        if len(self.counts) < 2:
            raise BadInput(
                f"{source}: target column {self.name!r} has a single class "
                f"({next(iter(self.counts))!r}); need at least 2"
            )
        return sorted(self.counts)


class ColumnTally:
    """One column over every batch: rows, gaps, the categories and how often each came, the
    range of numbers and times."""

    MAX_COUNTED = 100_000
    """Categories counted per column at most (a column with more is no category)."""

    def __init__(self, column: Column) -> None:
        self.column = column
        self.rows = self.gaps = 0
        self.counts: dict[str, int] = {}
        self.low: Any = None
        self.high: Any = None

    def update(self, series: pd.Series) -> None:
        self.rows += len(series)
        self.gaps += int(series.isna().sum())
        kind = self.column.kind
        if kind not in ("categorical", "numeric", "datetime"):
            return
        if kind == "categorical":
            if len(self.counts) <= self.MAX_COUNTED:
                counted = CategoryCounts(series)
                for level, count in zip(counted.categories, counted.rows.tolist(), strict=True):
                    self.counts[level] = self.counts.get(level, 0) + count
            return
        values, _ = model_values(series, self.column)
        values = values[np.isfinite(values)] if kind == "numeric" else values.dropna()
        if len(values):
            low, high = values.min(), values.max()
            self.low = low if self.low is None else min(self.low, low)
            self.high = high if self.high is None else max(self.high, high)

    def result(self) -> Column:
        stats: dict[str, Any] = {"missing": _round(self.gaps / self.rows) if self.rows else 0.0}
        if self.column.kind == "categorical":
            ranked = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))
            stats["categories"] = [level for level, _ in ranked[:MAX_RECORDED_CATEGORIES]]
            stats["levels"] = len(ranked)
        elif self.low is not None and self.column.kind == "numeric":
            stats.update(min=_round(self.low), max=_round(self.high))
        elif self.low is not None:
            stats.update(min=self.low.isoformat(), max=self.high.isoformat())
        return self.column.model_copy(update=stats)


class Tally:
    """A :func:`draft` schema completed by every batch of the table (memory bounded by the
    categories counted, not by the rows): :meth:`schema` is what is recorded."""

    def __init__(self, draft: TableSchema) -> None:
        self.draft = draft
        self.columns = {name: ColumnTally(column) for name, column in draft.columns.items()}
        self.target = TargetTally(draft.target, draft.task)

    def update(self, frame: pd.DataFrame, where: str) -> None:
        for name, tally in self.columns.items():
            tally.update(frame[name])
        self.target.update(frame[self.draft.target], where)

    def schema(self, source: str) -> TableSchema:
        """The recorded schema; ``BadInput`` for a column or target of gaps only, or a target
        of one class."""
        columns = {name: tally.result() for name, tally in self.columns.items()}
        for name, tally in self.columns.items():
            if tally.rows and tally.gaps == tally.rows and name not in self.draft.id_columns:
                raise BadInput(
                    f"{source}: column {name!r} has only missing values ({tally.gaps} of "
                    f"{tally.rows}); drop it with drop_columns"
                )
        return self.draft.model_copy(
            update={"columns": columns, "classes": self.target.classes(source)}
        )


def label_text(value: Any) -> str:
    """A class label as text: integral numbers without a fraction (3.0 -> '3')."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def guess_kind(series: pd.Series) -> Kind:
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "numeric"
    known = series.dropna()
    text = known.astype(str)
    distinct = pd.unique(text.to_numpy())
    if (
        len(distinct) <= len(BOOLEAN_WORDS)
        and {str(v).strip().lower() for v in distinct} <= BOOLEAN_WORDS.keys()
    ):
        return "boolean"
    if pd.to_numeric(pd.Series(distinct[:1000]), errors="coerce").notna().all():
        return "numeric"
    if date_format(distinct) is not None:
        return "datetime"
    many = len(distinct) > max(MIN_LEVELS_TO_EXCLUDE, HIGH_CARDINALITY * len(known))
    if text.str.len().mean() > LONG_TEXT or (many and text.str.contains(r"\s").mean() > 0.5):
        return "text"
    return "identifier" if many else "categorical"


def date_format(values: Iterable[Any], sample: int = 1000) -> str | None:
    """The first of ``DATE_FORMATS`` that reads every sampled value; None if none does."""
    probe = pd.Series([str(v) for v in list(values)[:sample]])
    if probe.empty or not probe.str.contains(r"\d").all():
        return None
    for fmt in DATE_FORMATS:
        try:
            parsed = pd.to_datetime(probe, format=fmt, errors="coerce")
        except (ValueError, TypeError):
            continue
        if parsed.notna().all():
            return fmt
    return None


def date_reader(fmt: str | None) -> Callable[[str], str]:
    """A check of one datetime value in the recorded spelling (ISO 8601 for a column that was
    a datetime dtype): the text back, or ``ValueError`` naming the spelling."""
    spelling = fmt or "ISO8601"

    def read(text: str) -> str:
        if pd.isna(pd.to_datetime(pd.Series([text]), format=spelling, errors="coerce")[0]):
            raise ValueError(f"not a date and time in the spelling {spelling}")
        return text

    return read


def model_values(series: pd.Series, column: Column) -> tuple[Any, int]:
    """``series`` as the model takes a column of ``column.kind``, and how many of its values do
    not fit the kind (they become gaps): float64 numbers for numeric and boolean (1/0), text
    (object, NaN for a gap) for categorical, datetime64 for datetime. Identifiers and text are
    returned as they are."""
    dtype = series.dtype
    kind = column.kind
    if kind == "numeric":
        if ptypes.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            if ptypes.is_complex_dtype(dtype):
                return np.full(len(series), np.nan), int(series.notna().sum())
            return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
        if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
            return np.full(len(series), np.nan), int(series.notna().sum())
        numbers = pd.to_numeric(series.astype(object), errors="coerce")
        bad = int((numbers.isna() & series.notna()).sum())
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan), bad
    if kind == "boolean":
        if ptypes.is_bool_dtype(dtype):
            return series.to_numpy(dtype=np.float64, na_value=np.nan), 0
        if ptypes.is_numeric_dtype(dtype):
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = ~np.isnan(numbers) & (numbers != 0) & (numbers != 1)
            return np.where(bad, np.nan, numbers), int(bad.sum())
        factorized = _text_codes(series)
        if factorized is None:
            words = series.astype(object).map(_boolean_word, na_action="ignore")
            bad = int((words.isna() & series.notna()).sum())
            return words.to_numpy(dtype=np.float64, na_value=np.nan), bad
        # Each distinct word read once, not every row; a gap (code -1) reads as the NaN appended.
        codes, distinct = factorized
        read = np.fromiter(map(_boolean_word, distinct), np.float64, len(distinct))
        numbers = np.append(read, np.nan)[codes]
        return numbers, int(np.count_nonzero(np.isnan(numbers) & (codes >= 0)))
    if kind == "categorical":
        return category_text(series), 0
    if kind == "datetime":
        if ptypes.is_datetime64_any_dtype(dtype):
            times = series if getattr(dtype, "tz", None) is None else series.dt.tz_localize(None)
            return pd.Series(times.to_numpy(), index=series.index), 0
        if ptypes.is_numeric_dtype(dtype) or ptypes.is_bool_dtype(dtype):
            return pd.Series(pd.NaT, index=series.index), int(series.notna().sum())
        fmt = column.format or "ISO8601"
        times = pd.to_datetime(series.astype(object), format=fmt, errors="coerce")
        if getattr(times.dtype, "tz", None) is not None:
            times = times.dt.tz_localize(None)
        return times, int((times.isna() & series.notna()).sum())
    return series, 0


def category_text(series: pd.Series) -> pd.Series:
    """Categories as text (object dtype, NaN for a gap): integral numbers without a fraction, so
    3, 3.0 and '3' are one category whether they came from a CSV, parquet or JSON."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return series.astype(object).where(series.notna(), np.nan).map(str, na_action="ignore")
    if ptypes.is_numeric_dtype(dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~np.isnan(numbers)
        text = np.full(len(series), np.nan, dtype=object)
        if known.any():
            values = numbers[known]
            integral = values == np.round(values)
            text[known] = np.where(
                integral, values.astype(np.int64).astype(str), values.astype(str)
            )
        return pd.Series(text, index=series.index, dtype=object)
    if ptypes.is_object_dtype(dtype) and pd.api.types.infer_dtype(series, skipna=True) in (
        "string",
        "empty",
    ):
        return series if not series.hasnans else series.where(series.notna(), np.nan)
    return series.astype(object).map(str, na_action="ignore").where(series.notna(), np.nan)


class CategoryCounts:
    """One batch of a categorical column as the model reads it (:func:`category_text`),
    counted: each distinct category and its rows, and the gaps. The data contract (categories
    the model never saw), the unseen counts and drift (rows per training level) all read one
    count per batch instead of each reading every row again."""

    def __init__(self, series: pd.Series) -> None:
        factorized = _text_codes(series)  # text is its own category_text
        codes, categories = factorized or pd.factorize(category_text(series).to_numpy(dtype=object))
        self.categories: np.ndarray = categories
        """The distinct categories (text), in the order they came."""
        counted = np.bincount(codes + 1, minlength=len(categories) + 1)
        self.gaps = int(counted[0])
        self.rows: np.ndarray = counted[1:]
        """Rows per category, in the order of ``categories``."""

    def outside(self, known: Collection[str]) -> int:
        """Rows of a category not among ``known`` (gaps are no category)."""
        seen = np.fromiter((c in known for c in self.categories), bool, len(self.categories))
        return int(self.rows[~seen].sum())

    def per_level(self, levels: Sequence[str]) -> np.ndarray:
        """Rows per level of ``levels``, then of every other category, then the gaps."""
        position = {level: i for i, level in enumerate(levels)}
        at = np.fromiter(
            (position.get(c, len(levels)) for c in self.categories), np.intp, len(self.categories)
        )
        per = np.bincount(at, weights=self.rows, minlength=len(levels) + 1)
        return np.append(per, self.gaps).astype(float)


class CountedCategories:
    """The categorical columns of one batch, each counted (:class:`CategoryCounts`) once, when
    first asked for, whoever asks: a streaming job makes one per batch and hands it to every
    check of that batch."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._counted: dict[str, CategoryCounts] = {}

    def __getitem__(self, name: str) -> CategoryCounts:
        if name not in self._counted:
            self._counted[name] = CategoryCounts(self.frame[name])
        return self._counted[name]


def _text_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """A column of text factorized: a code per row (-1 for a gap) into its distinct values;
    None when some value is not text (3, 3.0 and True are one value as Python compares them,
    but not as text: such a column is read row by row)."""
    if series.dtype != object and not isinstance(series.dtype, pd.StringDtype):
        return None
    codes, distinct = pd.factorize(series.to_numpy(dtype=object))
    if not all(isinstance(value, str) for value in distinct):
        return None
    return codes, distinct


def _boolean_word(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        return float(value)
    return BOOLEAN_WORDS.get(str(value).strip().lower(), np.nan)


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")
