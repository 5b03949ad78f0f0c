"""Loading and splitting a labelled table: plain functions, no ZenML."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from jobs.common.data import iris
from jobs.common.data.tables import read_table


def load_source(source: str) -> pd.DataFrame:
    """Iris, one file, or every parquet/CSV file of a folder or prefix (a partition)."""
    if source == iris.SOURCE:
        return iris.labelled()
    from jobs.common.data import streaming

    return read_table(source) if streaming.kind_of(source) else streaming.read_all(source)


def split(
    df: pd.DataFrame, target: str, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified split when every class can appear on both sides, else a plain one."""
    counts = df[target].value_counts()
    stratify = df[target] if counts.min() >= 2 and len(counts) <= len(df) * test_size else None
    train, test = train_test_split(
        df, test_size=test_size, random_state=random_state, stratify=stratify
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
