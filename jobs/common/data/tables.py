"""A whole table into memory: one CSV or Parquet file, a local path or a URI the artifact store
serves (for tables too large for that, read them batch by batch: ``streaming``).

Every failure to read or parse raises ``BadInput`` naming the URI, so a job maps it to exit 2.
What a table must *contain* is checked in ``jobs.common.data.data_contract``.
"""

from __future__ import annotations

import io

import pandas as pd

from jobs.common.data import streaming
from jobs.common.runtime.errors import BadInput


def read_table(uri: str) -> pd.DataFrame:
    """Read a CSV or Parquet file from a local path or a URI the active artifact store serves."""
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
