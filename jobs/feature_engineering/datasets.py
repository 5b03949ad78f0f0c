"""A labelled source of any size, in bounded memory: read in batches, surveyed, split, written.

Plain functions, no ZenML. The source (iris, one file, or every parquet/CSV file of a folder or
prefix) is read ``BATCH_ROWS`` rows at a time with ``jobs.common.data.streaming`` — the one
table reader every job uses — never whole:

1. :func:`survey` (before anything is written): the kinds from the first ``HEAD_ROWS`` rows
   (:func:`schema.draft`), then every batch held to the data contract and tallied into the
   recorded schema (gaps, categories, ranges, classes). Every refusal is ``BadInput``.
2. :func:`test_rows`: which labelled rows go to testing — by a stable hash of the id columns
   when given (a row keeps its side when the source is reordered or grows), by time with
   ``time_column`` (the newest ``test_size``), else scikit-learn's (stratified) shuffle split of
   the row positions, as ``train_test_split`` would split the table held whole. Only the
   columns it needs are read, and it keeps one small number per row.
3. :func:`write_split`: every batch again, rows without a target dropped (counted), each row to
   the training or the testing parquet folder, as pyarrow tables (no pandas copy).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from jobs.common.data import iris, streaming
from jobs.common.data.data_contract import check_features
from jobs.common.data.schema import TableSchema, Tally, draft, model_values
from jobs.common.runtime import logs
from jobs.common.runtime.errors import BadInput
from jobs.common.store.parquet import part_name
from jobs.feature_engineering.params import SplitChoice

BATCH_ROWS = 131_072
HEAD_ROWS = 100_000
"""Rows the kinds are inferred from: the first of the source."""
HASH_BUCKETS = 1 << 32


@dataclass(frozen=True)
class SourceTable:
    """A source opened for reading: where, and (for a file or folder) its files."""

    uri: str
    source: streaming.Source | None
    """None for the built-in iris table."""

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[tuple[pa.Table, str]]:
        """Every row in order, as pyarrow tables of one schema, with where they were."""
        if self.source is None:
            table = pa.Table.from_pandas(iris.labelled(), preserve_index=False)
            yield (table.select(list(columns)) if columns else table), iris.SOURCE
            return
        first: pa.Schema | None = None
        for batch in streaming.batches(self.source, BATCH_ROWS, columns):
            table = batch.table
            if first is None:
                first = table.schema
            elif table.schema != first:
                table = _cast(table, first, batch.where)
            yield table, batch.where

    def head(self, rows: int = HEAD_ROWS) -> pd.DataFrame:
        taken: list[pa.Table] = []
        count = 0
        for table, _ in self.batches():
            taken.append(table.slice(0, rows - count))
            count += taken[-1].num_rows
            if count >= rows:
                break
        if not taken:
            raise BadInput(f"{self.uri}: the table is empty")
        return pa.concat_tables(taken).to_pandas()


def open_source(uri: str) -> SourceTable:
    """Iris, one file, or every parquet/CSV file of a folder or prefix (a partition)."""
    if uri == iris.SOURCE:
        return SourceTable(uri, None)
    return SourceTable(uri, streaming.locate(uri))


def _cast(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """A later file's table in the first file's schema (int64 where it was float64 ...)."""
    if table.schema.names != schema.names:
        raise BadInput(
            f"{where}: columns {', '.join(table.schema.names)} differ from the first file's "
            f"({', '.join(schema.names)}); keep one layout per source"
        )
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        raise BadInput(f"{where}: a column's type differs from the first file's: {err}") from err


def survey(table: SourceTable, choice: SplitChoice) -> TableSchema:
    """The recorded schema of the source, once every batch passed the data contract."""
    plan = draft(
        table.head(),
        choice.target_column,
        table.uri,
        kinds=choice.columns,
        id_columns=choice.id_columns,
        drop_columns=choice.drop_columns,
        task=choice.task,
        missing=choice.missing,
    )
    tally = Tally(plan)
    progress = logs.Progress("rows surveyed")
    for batch, where in table.batches():
        frame = batch.to_pandas()
        check_features(frame, plan, where)
        tally.update(frame, where)
        progress.advance(batch.num_rows)
    progress.report(final=True)
    return tally.schema(table.uri)


def test_rows(table: SourceTable, choice: SplitChoice, schema: TableSchema) -> np.ndarray:
    """One bool per labelled row, in source order: True for a testing row."""
    target = choice.target_column
    needed = [target, *([choice.time_column] if choice.time_column else []), *choice.id_columns]
    labels: list[pa.Array] = []
    times: list[np.ndarray] = []
    hashes: list[np.ndarray] = []
    for batch, _ in table.batches(list(dict.fromkeys(needed))):
        batch = batch.filter(pc.is_valid(batch[target]))
        if choice.id_columns:
            ids = batch.select(choice.id_columns).to_pandas()
            key = f"{choice.random_state:016d}"[-16:]
            hashes.append(pd.util.hash_pandas_object(ids, index=False, hash_key=key).to_numpy())
        elif choice.time_column:
            times.append(_time_order(batch[choice.time_column].to_pandas(), choice, schema))
        else:
            labels.extend(batch[target].chunks)
    if choice.id_columns:
        digest = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        return (digest % HASH_BUCKETS) < choice.test_size * HASH_BUCKETS
    if choice.time_column:
        order = pd.Series(np.concatenate(times) if times else np.empty(0))
        ranked = order.rank(method="first", na_option="top").to_numpy()
        return ranked > len(order) * (1 - choice.test_size)
    codes = pc.dictionary_encode(pa.chunked_array(labels)).combine_chunks().indices
    return shuffled_test_rows(
        np.asarray(codes), choice.test_size, choice.random_state, schema.task == "classification"
    )


def _time_order(values: pd.Series, choice: SplitChoice, schema: TableSchema) -> np.ndarray:
    column = schema.columns.get(str(choice.time_column))
    if column is not None and column.kind in ("datetime", "numeric"):
        read, _ = model_values(values, column)
        values = pd.Series(read)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise BadInput(
            f"time_column {choice.time_column!r} holds neither times nor numbers; set its "
            "kind with columns"
        ) from err


def shuffled_test_rows(
    labels: np.ndarray, test_size: float, random_state: int, classes: bool
) -> np.ndarray:
    """``train_test_split`` of the row positions: stratified when every class can appear on
    both sides, else a plain shuffle."""
    from sklearn.model_selection import train_test_split

    rows = len(labels)
    if rows < 2:
        raise BadInput(f"{rows} labelled row(s): too few to split into training and testing")
    counts = np.bincount(labels) if classes else np.empty(0)
    counts = counts[counts > 0]
    fits = classes and counts.min() >= 2 and len(counts) <= rows * test_size
    _, testing = train_test_split(
        np.arange(rows),
        test_size=test_size,
        random_state=random_state,
        stratify=labels if fits else None,
    )
    mask = np.zeros(rows, dtype=bool)
    mask[testing] = True
    return mask


@dataclass(frozen=True)
class Written:
    training_rows: int
    testing_rows: int
    rows_without_target: int


def write_split(
    table: SourceTable,
    choice: SplitChoice,
    testing: np.ndarray,
    folders: tuple[str, str],
    in_artifact_store: bool = True,
) -> Written:
    """Every batch's labelled rows into the training and testing folders (one parquet part
    each); whatever fails leaves the caller to remove the folders."""
    writers = [
        streaming.TableWriter(
            streaming.join(folder, part_name(0)), "parquet", through_store=in_artifact_store
        )
        for folder in folders
    ]
    offset = dropped = 0
    try:
        for batch, _ in table.batches():
            if choice.drop_columns:
                batch = batch.drop_columns(list(choice.drop_columns))
            labelled = batch.filter(pc.is_valid(batch[choice.target_column]))
            dropped += batch.num_rows - labelled.num_rows
            side = testing[offset : offset + labelled.num_rows]
            offset += labelled.num_rows
            writers[0].write(labelled.filter(pa.array(~side)))
            writers[1].write(labelled.filter(pa.array(side)))
    finally:
        for writer in writers:
            writer.close()
    if not writers[0].rows or not writers[1].rows:
        raise BadInput(
            f"{table.uri}: {offset} labelled row(s) give an empty training or testing dataset; "
            "add rows or change test_size"
        )
    return Written(writers[0].rows, writers[1].rows, dropped)


def describe(table: SourceTable) -> dict[str, Any]:
    """What the datasets record about their source instead of a copy of it."""
    return {"uri": table.uri} if table.source is None else table.source.describe()
