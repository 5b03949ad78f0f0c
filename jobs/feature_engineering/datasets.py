"""Loading and splitting a labelled table: plain functions, no ZenML.

Every failure to read or parse raises ``BadInput`` naming the URI, so the job maps it to exit 2.
What the table must *contain* is checked in ``jobs.common.data.data_contract``.
"""

from __future__ import annotations

import io

import pandas as pd
from sklearn.model_selection import train_test_split

from jobs.common.data import iris, streaming
from jobs.common.data.data_contract import validate_labelled
from jobs.common.data.schema import TableSchema, model_values
from jobs.common.runtime.errors import BadInput
from jobs.feature_engineering.params import SplitChoice


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


def checked(raw: pd.DataFrame, choice: SplitChoice) -> TableSchema:
    """The source's schema, as configured, once the data contract passes (else ``BadInput``)."""
    return validate_labelled(
        raw,
        choice.target_column,
        choice.source,
        kinds=choice.columns,
        id_columns=choice.id_columns,
        drop_columns=choice.drop_columns,
        task=choice.task,
        missing=choice.missing,
    )


def split(
    df: pd.DataFrame,
    target: str,
    test_size: float,
    random_state: int,
    schema: TableSchema | None = None,
    time_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """By time (the newest rows to testing) when ``time_column`` is given; else a stratified
    split when every class can appear on both sides, else a plain one."""
    if time_column:
        return split_by_time(df, time_column, test_size, schema)
    counts = df[target].value_counts()
    classes = schema is None or schema.task == "classification"
    fits = classes and counts.min() >= 2 and len(counts) <= len(df) * test_size
    stratify = df[target] if fits else None
    train, test = train_test_split(
        df, test_size=test_size, random_state=random_state, stratify=stratify
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def split_by_time(
    df: pd.DataFrame, column: str, test_size: float, schema: TableSchema | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The oldest rows train, the newest ``test_size`` test (rows without a time train)."""
    if column not in df.columns:
        raise BadInput(f"time_column {column!r} is not a column of the source")
    described = schema.columns.get(column) if schema is not None else None
    if described is not None and described.kind in ("datetime", "numeric"):
        values, _ = model_values(df[column], described)
        order = pd.Series(values, index=df.index)
    else:
        order = df[column]
    ranked = order.rank(method="first", na_option="top").to_numpy()
    testing = ranked > len(df) * (1 - test_size)
    return (
        df.loc[~testing].reset_index(drop=True),
        df.loc[testing].reset_index(drop=True),
    )
