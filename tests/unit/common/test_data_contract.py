from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.data_contract import (
    read_table,
    validate_features,
    validate_labelled,
    write_table,
)
from jobs.common.errors import BadInput

SCHEMA = {"a": "float64", "b": "float64"}


def labelled() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.5, 0.1, 0.2], "y": ["x", "z", "x"]})


def test_a_good_table_yields_its_feature_schema():
    assert validate_labelled(labelled(), "y", "t.csv") == SCHEMA


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (labelled().drop(columns=["y"]), "target column 'y' is missing"),
        (labelled().assign(a=[1.0, np.nan, 2.0]), "column 'a' has 1 missing"),
        (labelled().assign(y=["x", None, "z"]), "target column 'y' has missing"),
        (labelled().assign(b=["p", "q", "r"]), "column 'b' has dtype object"),
        (labelled()[["y"]], "no feature columns"),
        (labelled().assign(y="x"), "single class"),
    ],
)
def test_bad_training_tables_are_rejected_naming_the_problem(frame, message):
    with pytest.raises(BadInput, match=message):
        validate_labelled(frame, "y", "t.csv")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0]}), "missing column"),
        (pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]}), "unexpected column"),
        (pd.DataFrame({"a": [1.0], "b": ["x"]}), "column 'b' has dtype object"),
        (pd.DataFrame({"a": [1.0], "b": [None]}), "column 'b'"),
        (pd.DataFrame({"a": [], "b": []}), "empty"),
    ],
)
def test_bad_inference_tables_are_rejected(frame, message):
    with pytest.raises(BadInput, match=message):
        validate_features(frame, SCHEMA, "in.csv")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_tables_round_trip_through_csv_and_parquet(tmp_path: Path, suffix: str):
    path = str(tmp_path / f"table{suffix}")
    write_table(labelled(), path)
    pd.testing.assert_frame_equal(read_table(path), labelled())


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
