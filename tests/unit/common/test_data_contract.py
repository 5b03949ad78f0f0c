"""The data contract over the inferred schema: what is refused (exit 2, naming file, column and
count), what is imputed, dropped or counted."""

import re

import numpy as np
import pandas as pd
import pytest

from jobs.common.data.data_contract import (
    check_features,
    require_columns,
    validate_labelled,
    with_target,
)
from jobs.common.data.schema import Column, TableSchema
from jobs.common.runtime.errors import BadInput


def labelled() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0],
            "colour": ["red", "blue", None, "red"],
            "y": ["x", "z", "x", "z"],
        }
    )


SCHEMA = TableSchema(
    columns={
        "a": Column(kind="numeric"),
        "colour": Column(kind="categorical", dtype="object", categories=["red", "blue"], levels=2),
        "when": Column(kind="datetime", dtype="object", format="ISO8601"),
        "member": Column(kind="boolean", dtype="object"),
        "name": Column(kind="identifier", dtype="object"),
    },
    target="y",
    task="classification",
    classes=["x", "z"],
)
ROWS = pd.DataFrame(
    {
        "a": [1.0, 2.0],
        "colour": ["red", "blue"],
        "when": ["2024-01-01", "2024-02-01"],
        "member": ["yes", "no"],
        "name": ["p", "q"],
    }
)


def test_a_table_with_categories_and_gaps_yields_its_schema():
    schema = validate_labelled(labelled(), "y", "t.csv")
    assert {n: c.kind for n, c in schema.columns.items()} == {
        "a": "numeric",
        "colour": "categorical",
    }
    assert schema.columns["colour"].missing == 0.25
    assert schema.task == "classification" and schema.classes == ["x", "z"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (labelled().drop(columns=["y"]), "target column 'y' is missing"),
        (labelled().assign(y=None), "target column 'y' has only missing values (4 of 4)"),
        (labelled().assign(y="x"), "single class ('x')"),
        (labelled().assign(b=np.nan), "column 'b' has only missing values (4 of 4)"),
        (labelled().assign(a=[1.0, np.inf, 2.0, -np.inf]), "column 'a' has 2 non-finite"),
        (labelled().assign(y=[0.5, 1.0, 0.0, np.inf]), "target column 'y' has 1 non-finite"),
        (labelled()[["y"]], "no feature columns"),
    ],
)
def test_tables_no_model_can_learn_from_are_refused_naming_column_and_count(frame, message):
    with pytest.raises(BadInput, match=re.escape(message)) as raised:
        validate_labelled(frame, "y", "t.csv")
    assert str(raised.value).startswith("t.csv") and "\n" not in str(raised.value)


def test_gaps_in_features_are_refused_only_when_configured():
    validate_labelled(labelled(), "y", "t.csv")
    with pytest.raises(BadInput, match=r"column 'colour' has 1 missing value.*missing: reject"):
        validate_labelled(labelled(), "y", "t.csv", missing="reject")


def test_rows_without_a_target_are_dropped_and_counted():
    frame = labelled().assign(y=["x", None, "z", "x"])
    schema = validate_labelled(frame, "y", "t.csv")
    kept, dropped = with_target(frame, schema.target)
    assert dropped == 1 and len(kept) == 3 and kept["y"].notna().all()


def test_a_configured_kind_that_the_values_do_not_fit_is_refused():
    frame = labelled().assign(a=["1.0", "high", "2.0", "3.0"])
    assert validate_labelled(frame, "y", "t.csv").columns["a"].kind == "categorical"
    with pytest.raises(BadInput, match=r"column 'a' has 1 value\(s\) that are not numeric"):
        validate_labelled(frame, "y", "t.csv", kinds={"a": "numeric"})


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("a", ["1.0", "x"], "column 'a' has 1 value(s) that are not numeric (dtype object)"),
        ("a", [1.0, np.inf], "column 'a' has 1 non-finite value(s)"),
        ("a", [1e39, 2.0], "column 'a' has 1 value(s) beyond float32's range"),
        ("when", ["2024-01-01", "soon"], "column 'when' has 1 value(s) that are not datetime"),
        ("when", [3.0, 4.0], "column 'when' has 2 value(s) that are not datetime"),
        ("member", ["yes", "perhaps"], "column 'member' has 1 value(s) that are not boolean"),
    ],
)
def test_a_batch_whose_column_changed_kind_is_refused(column, values, message):
    check_features(ROWS, SCHEMA, "in.csv")
    with pytest.raises(BadInput, match=re.escape(f"in.csv: {message}")):
        check_features(ROWS.assign(**{column: values}), SCHEMA, "in.csv")


def test_a_missing_column_is_refused_and_an_unknown_one_too():
    with pytest.raises(BadInput, match=r"missing column\(s\) 'colour'"):
        check_features(ROWS.drop(columns=["colour"]), SCHEMA, "in.csv")
    require_columns([*ROWS.columns, "y"], SCHEMA, "in.csv")  # the target and ids may be there
    with pytest.raises(BadInput, match=r"unexpected column\(s\) 'size'"):
        require_columns([*ROWS.columns, "size"], SCHEMA, "in.csv")


def test_gaps_pass_as_the_model_imputes_them_unless_the_schema_refuses_them():
    gappy = ROWS.assign(a=[np.nan, 1.0], colour=[None, "red"], when=[None, "2024-01-01"])
    assert check_features(gappy, SCHEMA, "in.csv") == {}
    strict = SCHEMA.model_copy(update={"missing_policy": "reject"})
    with pytest.raises(BadInput, match=r"column 'a' has 1 missing value"):
        check_features(gappy, strict, "in.csv")


def test_unseen_categories_are_counted_per_column_or_refused():
    rows = ROWS.assign(colour=["green", "green"])
    assert check_features(rows, SCHEMA, "in.csv", unseen="warn") == {"colour": 2}
    with pytest.raises(BadInput, match=r"column 'colour' has 2 value\(s\) of categories the model"):
        check_features(rows, SCHEMA, "in.csv", unseen="fail")


def test_a_legacy_numeric_schema_still_refuses_gaps():
    from jobs.common.data.schema import from_metadata

    legacy = from_metadata({"feature_schema": {"a": "float64"}, "target_column": "y"})
    assert legacy is not None and legacy.missing_policy == "reject"
    with pytest.raises(BadInput, match=r"column 'a' has 1 missing"):
        check_features(pd.DataFrame({"a": [1.0, np.nan]}), legacy, "in.csv")
