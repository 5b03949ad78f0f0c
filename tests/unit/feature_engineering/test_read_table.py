from pathlib import Path

import pandas as pd
import pytest

from jobs.common.runtime.errors import BadInput
from jobs.feature_engineering.datasets import read_table


def labelled() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2], "y": ["x", "z", "x"]})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_round_trip_through_csv_and_parquet(tmp_path: Path, suffix: str):
    path = tmp_path / f"table{suffix}"
    if suffix == ".csv":
        labelled().to_csv(path, index=False)
    else:
        labelled().to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_table(str(path)), labelled())


def test_unreadable_and_unknown_files_are_bad_input(tmp_path: Path):
    with pytest.raises(BadInput, match="cannot read"):
        read_table(str(tmp_path / "missing.csv"))
    with pytest.raises(BadInput, match="expected a .csv or .parquet"):
        read_table(str(tmp_path / "data.json"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(BadInput, match="cannot parse"):
        read_table(str(broken))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(BadInput, match="empty"):
        read_table(str(empty))
