import numpy as np
import pandas as pd
import pytest

from jobs.common.data_contract import validate_features, validate_labelled
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
