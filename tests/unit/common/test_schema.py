"""Kinds inferred from the values, overridable; the task from the target; the values as the
model takes them, alike from CSV, parquet and JSON spellings."""

import numpy as np
import pandas as pd
import pytest

from jobs.common.data.schema import (
    Column,
    guess_kind,
    infer,
    infer_task,
    model_values,
)
from jobs.common.runtime.errors import BadInput

N = 200


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (np.arange(N, dtype=float), "numeric"),
        (np.arange(N), "numeric"),
        ([str(i * 0.5) for i in range(N)], "numeric"),
        (np.arange(N) % 2 == 0, "boolean"),
        (["yes", "no"] * (N // 2), "boolean"),
        (["True", "False", None, "true"] * (N // 4), "boolean"),
        (["red", "blue", None, "green"] * (N // 4), "categorical"),
        ([f"2024-01-{1 + i % 28:02d}" for i in range(N)], "datetime"),
        ([f"2012/03/{1 + i % 28:02d}" for i in range(N)], "datetime"),
        ([f"{1 + i % 28:02d}/03/2012" for i in range(N)], "datetime"),
        (pd.date_range("2020-01-01", periods=N, freq="D"), "datetime"),
        ([f"C{i:06d}" for i in range(N)], "identifier"),
        ([f"the customer said {i} things about it" for i in range(N)], "text"),
    ],
)
def test_kinds_are_inferred_from_the_values(values, kind):
    assert guess_kind(pd.Series(values)) == kind


def test_kinds_can_be_overridden_ids_and_dropped_columns_are_no_features():
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(N)],
            "zip": np.arange(N) % 7,
            "noise": np.arange(N),
            "y": np.arange(N) % 2,
        }
    )
    schema = infer(
        frame, "y", "t.csv", kinds={"zip": "categorical"}, id_columns=["id"], drop_columns=["noise"]
    )
    assert {n: c.kind for n, c in schema.columns.items()} == {
        "id": "identifier",
        "zip": "categorical",
    }
    assert list(schema.features) == ["zip"] and schema.id_columns == ["id"]
    assert schema.columns["zip"].categories is not None
    assert sorted(schema.columns["zip"].categories) == [str(i) for i in range(7)]


def test_a_named_column_that_is_not_there_is_bad_input():
    frame = pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]})
    with pytest.raises(BadInput, match="column 'b' is missing"):
        infer(frame, "y", "t.csv", drop_columns=["b"])


@pytest.mark.parametrize(
    ("labels", "task", "classes"),
    [
        (["a", "b", "a"], "classification", ["a", "b"]),
        ([0, 1, 2, 1], "classification", ["0", "1", "2"]),
        ([0.0, 1.0, 1.0], "classification", ["0", "1"]),
        ([0.5, 1.25, 3.0], "regression", None),
        (list(range(100)), "regression", None),  # integral, but a quantity: too many to be classes
    ],
)
def test_the_task_follows_the_target(labels, task, classes):
    assert infer_task(pd.Series(labels, name="y"), "t.csv") == (task, classes)


def test_a_configured_task_wins_and_regression_needs_numbers():
    assert infer_task(pd.Series([0, 1, 2, 1], name="y"), "t", "regression")[0] == "regression"
    with pytest.raises(BadInput, match="regression needs numbers"):
        infer_task(pd.Series(["a", "b"], name="y"), "t", "regression")


def test_categories_read_alike_from_csv_parquet_and_json_spellings():
    column = Column(kind="categorical")
    for spelling in ([3, 4, None], [3.0, 4.0, np.nan], ["3", "4", None]):
        values, bad = model_values(pd.Series(spelling), column)
        assert list(values[:2]) == ["3", "4"] and pd.isna(values[2]) and bad == 0


def test_booleans_read_as_one_and_zero():
    values, bad = model_values(pd.Series(["Yes", "no", None, "TRUE"]), Column(kind="boolean"))
    assert np.array_equal(values, [1.0, 0.0, np.nan, 1.0], equal_nan=True) and bad == 0
