"""Reading and writing tables: CSV or Parquet, a local path or a URI the artifact store serves.

Every failure to read or parse raises ``BadInput`` naming the URI, so a job maps it to exit 2.
What a table must *contain* is checked in ``jobs.common.data.data_contract``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from jobs.common.runtime.errors import BadInput

READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def read_table(uri: str) -> pd.DataFrame:
    """Read a CSV or Parquet file from a local path or a URI the active artifact store serves."""
    return parse_table(read_bytes(uri), uri)


def read_bytes(uri: str) -> bytes:
    _kind(uri)
    try:
        with _open(uri, "rb") as handle:
            return handle.read()
    except Exception as err:  # fsspec and the stores raise their own types
        raise BadInput(f"cannot read {uri}: {getattr(err, 'strerror', None) or err}") from err


def parse_table(data: bytes, uri: str) -> pd.DataFrame:
    kind = _kind(uri)
    try:
        buffer = io.BytesIO(data)
        return pd.read_parquet(buffer) if kind == "parquet" else pd.read_csv(buffer)
    except pd.errors.EmptyDataError as err:
        raise BadInput(f"{uri}: the table is empty") from err
    except Exception as err:  # pyarrow and the CSV parser raise their own types
        raise BadInput(f"cannot parse {uri} as {kind}: {err}") from err


def write_table(df: pd.DataFrame, uri: str) -> None:
    kind = _kind(uri)
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    with _open(uri, "wb") as handle:
        if kind == "parquet":
            df.to_parquet(handle, index=False)
        else:
            df.to_csv(handle, index=False)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _open(uri: str, mode: str) -> Any:
    """Local paths directly; s3:// (gs://, az://) through the active stack's artifact store,
    with the credentials registered on the ZenML server: no keys in the job."""
    if "://" not in uri:
        return open(uri, mode)  # the caller's `with` closes it
    from zenml.client import Client

    return Client().active_stack.artifact_store.open(uri, mode)


def _kind(uri: str) -> str:
    kind = READERS.get(PurePosixPath(uri.split("?")[0]).suffix.lower())
    if kind is None:
        raise BadInput(f"cannot read {uri}: expected a .csv or .parquet file")
    return kind
