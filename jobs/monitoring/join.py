"""Labels joined to predictions and scored: plain functions over pandas, no ZenML.

The labels are read through the kernel's one table reader (only the id and target columns),
checked before any row is scored — every file has the id and target columns, no id twice, a
target of the model's kind — and joined to the predictions on the id columns. Labelled ids with
no prediction are counted (``unmatched``), as are predictions without a label (``unlabelled``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs.common.data import streaming
from jobs.common.data.kinds import Task
from jobs.common.data.schema import TargetTally, label_text
from jobs.common.quality.metrics import metrics
from jobs.common.quality.realized import worse
from jobs.common.runtime.errors import BadInput

PREDICTION = "prediction"
"""The predictions' column of predicted values (batch inference's)."""
DEFAULT_METRIC: dict[str, str] = {"classification": "balanced_accuracy", "regression": "rmse"}
"""The metric of a model version whose promotion record names none (training's defaults)."""


@dataclass(frozen=True)
class Joined:
    """The task's metrics on the labelled rows of one partition, and how the join went."""

    values: dict[str, float]
    rows: int
    unmatched: int
    unlabelled: int


def read_labels(
    source: streaming.Source, id_columns: Sequence[str], target: str, task: Task, rows: int
) -> pa.Table:
    """The labels' id and target columns, checked: exit 2 naming the file and column for a
    missing column, the ids seen twice, a target of the wrong kind. Rows without a target are
    no label (dropped)."""
    wanted = [*id_columns, target]
    for uri, names in streaming.columns_of(source).items():
        missing = [c for c in wanted if c not in names]
        if missing:
            what = "target column" if missing == [target] else "column(s)"
            raise BadInput(
                f"labels {uri} has no {what} {', '.join(map(repr, missing))} (it has "
                f"{', '.join(names[:10])}{', ...' if len(names) > 10 else ''})"
            )
    tally = TargetTally(target, task)
    tables = []
    for batch in streaming.batches(source, rows, wanted):
        tally.update(batch.table.column(target).to_pandas(), f"labels {batch.where}")
        tables.append(batch.table)
    if not tables:
        raise BadInput(f"labels {source.uri} has no rows")
    table = pa.concat_tables(tables, promote_options="default").combine_chunks()
    table = table.filter(pc.is_valid(table.column(target)))
    ids = list(id_columns)
    counts = table.group_by(ids).aggregate([([], "count_all")])
    twice = counts.filter(pc.greater(counts.column("count_all"), 1))
    if twice.num_rows:
        first = {c: twice.column(c)[0].as_py() for c in ids}
        raise BadInput(
            f"labels {source.uri} has {twice.num_rows} id(s) more than once in "
            f"{', '.join(ids)} (e.g. {first}): one label per id"
        )
    return table


def read_predictions(uri: str, id_columns: Sequence[str], rows: int) -> pa.Table:
    """The predictions' id columns and predicted values (the parts of a predictions folder)."""
    source = streaming.locate(uri)
    wanted = [*id_columns, PREDICTION]
    for file, names in streaming.columns_of(source).items():
        if missing := [c for c in wanted if c not in names]:
            raise BadInput(
                f"predictions {file} carry no column(s) {', '.join(map(repr, missing))}: score "
                "the partition with --id-columns naming the labels' ids"
            )
    tables = [batch.table for batch in streaming.batches(source, rows, wanted)]
    if not tables:
        return pa.table({c: pa.array([], pa.string()) for c in wanted})
    return pa.concat_tables(tables, promote_options="default").combine_chunks()


def join(
    labels: pa.Table,
    predictions: pa.Table,
    id_columns: Sequence[str],
    target: str,
    task: Task,
    where: str,
) -> Joined:
    """Every metric of ``task`` on the labelled rows that have a prediction. An Arrow hash join:
    a partition's ids as text cost a fraction of what they do as Python objects."""
    ids = list(id_columns)
    labels, predictions = _comparable_ids(labels.select([*ids, target]), predictions, ids)
    scored = predictions.select([*ids, PREDICTION])
    both = scored.join(labels, keys=ids, join_type="inner")
    unmatched = labels.join(scored.select(ids), keys=ids, join_type="left anti").num_rows
    unlabelled = scored.join(labels.select(ids), keys=ids, join_type="left anti").num_rows
    if both.num_rows == 0:
        raise BadInput(
            f"none of the {labels.num_rows} labelled id(s) of {where} has a prediction "
            f"(joined on {', '.join(ids)}); check id_columns"
        )
    truth, predicted = both.column(target), both.column(PREDICTION)
    if task == "classification":
        truth, predicted = _class_codes(truth, predicted)
    else:
        truth = truth.to_numpy().astype("float64")
        predicted = predicted.to_numpy().astype("float64")
    return Joined(metrics(truth, predicted, task), both.num_rows, unmatched, unlabelled)


def _class_codes(truth: pa.ChunkedArray, predicted: pa.ChunkedArray) -> tuple[Any, Any]:
    """Both sides as codes of one set of class labels read as text (``3.0`` is ``3``): each
    distinct value converted once, the rows never as Python objects."""
    import numpy as np

    codes: dict[str, int] = {}
    sides = []
    for column in (truth, predicted):
        encoded = pc.dictionary_encode(column).combine_chunks()
        names = [label_text(v) for v in encoded.dictionary.to_pylist()]
        mapping = np.array([codes.setdefault(n, len(codes)) for n in names], dtype=np.int64)
        sides.append(mapping[encoded.indices.to_numpy(zero_copy_only=False)])
    return sides[0], sides[1]


def decay(metric: str, value: float, bar: float | None, partition: str) -> str | None:
    """Why the model has decayed on ``partition`` (``value`` worse than ``bar``), or None."""
    if bar is None or not worse(metric, value, bar):
        return None
    side = "above" if value > bar else "below"
    return (
        f"realized {metric} {value:.4f} on partition {partition} is {side} retrain_below {bar:.4f}"
    )


def _comparable_ids(
    labels: pa.Table, predictions: pa.Table, ids: list[str]
) -> tuple[pa.Table, pa.Table]:
    """Ids read as numbers on one side and as text on the other are compared as text."""
    for column in ids:
        left, right = labels.schema.field(column).type, predictions.schema.field(column).type
        if left != right:
            labels = _as_text(labels, column)
            predictions = _as_text(predictions, column)
    return labels, predictions


def _as_text(table: pa.Table, column: str) -> pa.Table:
    values = pd.Series(table.column(column).to_pandas())
    text = pa.array(_as_labels(values), pa.string())
    return table.set_column(table.schema.get_field_index(column), column, text)


def _as_labels(values: pd.Series) -> pd.Series:
    """Class labels (or ids) as text, ``3.0`` as ``3`` (each distinct value converted once)."""
    return values.map({v: label_text(v) for v in pd.unique(values)})
