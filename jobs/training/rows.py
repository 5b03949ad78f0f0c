"""A dataset version's rows, read from its parquet folder in bounded memory: a uniform sample to
fit on, or batch after batch to score. Plain functions over ``jobs.common.data.streaming``.

The training job never holds a whole dataset: it fits on at most ``max_training_rows`` rows
drawn uniformly without replacement (their positions from the parquet footers, so the rows are
read once, in order), and scores the testing rows batch by batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from jobs.common.data import streaming

BATCH_ROWS = 131_072


def count(uri: str) -> int:
    """The rows of a dataset version, from its parquet footers (no row is read)."""
    return sum(f.rows or 0 for f in streaming.layout_of(streaming.locate(uri)))


def sample(uri: str, at_most: int, seed: int) -> tuple[pd.DataFrame, int]:
    """At most ``at_most`` rows, uniformly drawn (all of them, in order, when there are fewer),
    and how many rows there were."""
    source = streaming.locate(uri)
    total = count(uri)
    keep = None
    if total > at_most:
        keep = np.sort(np.random.default_rng(seed).choice(total, size=at_most, replace=False))
    tables = []
    offset = 0
    for batch in streaming.batches(source, BATCH_ROWS):
        rows = batch.table.num_rows
        if keep is None:
            tables.append(batch.table)
        else:
            first, last = np.searchsorted(keep, [offset, offset + rows])
            if last > first:
                tables.append(batch.table.take(pa.array(keep[first:last] - offset)))
        offset += rows
    table = pa.concat_tables(tables)
    del tables
    # Column by column, each freed once converted: the sample is never held twice; then the
    # batches' memory goes back to the system (pyarrow's pool keeps what it freed for reuse,
    # about 180 MB at a million mixed rows, which the fit that follows would stack on).
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    pa.default_memory_pool().release_unused()
    return frame, total


def frames(uri: str, columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    for batch in streaming.batches(streaming.locate(uri), BATCH_ROWS, columns):
        yield batch.table.to_pandas()


def column(uri: str, name: str) -> np.ndarray:
    """One column of every row (e.g. the target, for the trivial baseline)."""
    return np.concatenate([frame[name].to_numpy() for frame in frames(uri, [name])])


def predictions(model: Any, uri: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """The target and the model's prediction of every row, batch by batch."""
    truth, predicted = [], []
    for frame in frames(uri):
        truth.append(frame[target].to_numpy())
        predicted.append(np.asarray(model.predict(frame.drop(columns=[target]))))
    return np.concatenate(truth), np.concatenate(predicted)
