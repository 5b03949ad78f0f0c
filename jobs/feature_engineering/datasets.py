"""Loading and splitting a labelled table: plain functions, no ZenML.

Every failure to read or parse raises ``BadInput`` naming the URI, so the job maps it to exit 2.
What the table must *contain* is checked in ``jobs.common.data.data_contract``.
"""

from __future__ import annotations

import io

import pandas as pd
from sklearn.model_selection import train_test_split

from jobs.common.data import iris, streaming
from jobs.common.runtime.errors import BadInput


def load_source(source: str) -> pd.DataFrame:
    """Iris, one file, or every parquet/CSV file of a folder or prefix (a partition)."""
    if source == iris.SOURCE:
        return iris.labelled()
    return read_table(source) if streaming.kind_of(source) else streaming.read_all(source)


def read_table(uri: str) -> pd.DataFrame:
    """One CSV or Parquet file, whole, from a local path or a URI the artifact store serves."""
    kind = streaming.kind_of(uri)
    if kind is None:
        raise BadInput(f"cannot read {uri}: expected a .csv or .parquet file")
    try:
        with streaming.open_file(uri, "rb") as handle:
            data = handle.read()
    except Exception as err:  # fsspec and the stores raise their own types
        raise BadInput(f"cannot read {uri}: {getattr(err, 'strerror', None) or err}") from err
    try:
        buffer = io.BytesIO(data)
        return pd.read_parquet(buffer) if kind == "parquet" else pd.read_csv(buffer)
    except pd.errors.EmptyDataError as err:
        raise BadInput(f"{uri}: the table is empty") from err
    except Exception as err:  # pyarrow and the CSV parser raise their own types
        raise BadInput(f"cannot parse {uri} as {kind}: {err}") from err


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
