import re

import numpy as np
import pandas as pd
import pytest

from jobs.common.data.data_contract import check_values, validate_features, validate_labelled
from jobs.common.runtime.errors import BadInput

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
        (labelled().assign(y=["x", None, "z"]), "target column 'y' has 1 missing"),
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


# Every class of value a scikit-learn estimator rejects, each in several spellings and dtypes.
# (class name, column values, what the message says after "column 'b' has ").
BAD_VALUES = [
    ("missing", [1.0, np.nan, 2.0, np.nan], "2 missing value(s)"),
    ("missing", [1.0, None, 2.0, 3.0], "1 missing value(s)"),
    ("missing", pd.array([1, pd.NA, 3, 4], dtype="Int64"), "1 missing value(s)"),
    ("missing", pd.array([1.5, pd.NA, pd.NA, 4.0], dtype="Float64"), "2 missing value(s)"),
    ("non-finite", [1.0, np.inf, 2.0, 3.0], "1 non-finite value(s)"),
    ("non-finite", [-np.inf, np.inf, 2.0, 3.0], "2 non-finite value(s)"),
    ("non-finite", pd.array([1.5, np.inf, 2.0, 4.0], dtype="Float64"), "1 non-finite value(s)"),
    ("non-finite", np.array([1.0, np.inf, 2.0, 3.0], dtype=np.float32), "1 non-finite"),
    ("too large", [1.0, 1e39, -1e300, 3.0], "2 value(s) beyond float32's range"),
    ("non-numeric", ["1.0", "x", "2.0", "3.0"], "dtype object: 4 non-numeric value(s)"),
    ("non-numeric", [1.0, "high", 2.0, 3.0], "dtype object: 1 non-numeric value(s)"),
    ("non-numeric", [1.0, None, "x", 3.0], "dtype object: 2 non-numeric value(s)"),
    ("non-numeric", pd.to_datetime(["2020-01-01"] * 4), "4 non-numeric value(s)"),
    ("non-numeric", pd.to_timedelta([1, 2, 3, 4], unit="s"), "4 non-numeric value(s)"),
    ("non-numeric", pd.Categorical(["a", "b", "a", "b"]), "dtype category: 4 non-numeric"),
    ("boolean", [True, False, True, False], "dtype bool: 4 boolean value(s)"),
    ("boolean", pd.array([True, False, None, True], dtype="boolean"), "boolean"),
    ("complex", [1 + 1j, 2.0, 3.0, 4.0], "dtype complex128: 4 complex value(s)"),
]
GOOD_VALUES = [
    [1.0, 2.0, 3.0, 4.0],
    [1, 2, 3, 4],
    np.array([0, 1, 2, 3], dtype=np.uint8),
    np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32),
    pd.array([1, 2, 3, 4], dtype="Int64"),
    [-3.4e38, 3.4e38, 0.0, -0.0],
    [np.finfo(np.float64).tiny, 5e-324, 1e-300, 0.0],
]


def _ids(cases: list) -> list[str]:
    return [f"{case[0]}-{i}" for i, case in enumerate(cases)]


@pytest.mark.parametrize(("kind", "values", "message"), BAD_VALUES, ids=_ids(BAD_VALUES))
def test_every_class_of_bad_value_is_rejected_for_training_naming_column_and_count(
    kind, values, message
):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": values, "y": ["x", "z", "x", "z"]})
    with pytest.raises(BadInput) as raised:
        validate_labelled(frame, "y", "t.csv")
    text = str(raised.value)
    assert text.startswith("t.csv: column 'b' has ") and message in text, (kind, text)
    assert "\n" not in text


@pytest.mark.parametrize(("kind", "values", "message"), BAD_VALUES, ids=_ids(BAD_VALUES))
def test_every_class_of_bad_value_is_rejected_for_inference_in_any_batch(kind, values, message):
    good = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.5, 0.1, 0.2, 0.3]})
    bad = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": values})
    validate_features(good, SCHEMA, "in.parquet")
    with pytest.raises(BadInput, match=r"in.parquet: column 'b' has ") as raised:
        validate_features(bad, SCHEMA, "in.parquet")  # a batch is a table: the same check
    assert message in str(raised.value), kind
    with pytest.raises(BadInput, match=r"column 'b' has "):
        check_values(bad, "in.parquet batch 3")


@pytest.mark.parametrize("values", GOOD_VALUES, ids=lambda v: str(getattr(v, "dtype", "list")))
def test_values_every_estimator_accepts_pass(values):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": values, "y": ["x", "z", "x", "z"]})
    validate_labelled(frame, "y", "t.csv")
    check_values(frame.drop(columns=["y"]), "in.csv")


def test_the_first_bad_column_is_named_with_its_own_count():
    frame = pd.DataFrame({"a": [np.inf, 1.0, np.inf], "b": [np.nan, 1.0, 2.0]})
    with pytest.raises(BadInput, match=r"column 'a' has 2 non-finite"):
        check_values(frame, "f.csv")


BAD_TARGETS = [
    ([np.nan, 1.0, 0.0, 1.0], "1 missing value(s)"),
    (["x", None, "z", None], "2 missing value(s)"),
    ([np.inf, 1.0, 0.0, 1.0], "1 non-finite value(s)"),
    ([0.5, 1.0, 0.0, 1.25], "2 continuous value(s)"),
]


@pytest.mark.parametrize(("labels", "message"), BAD_TARGETS)
def test_labels_a_classifier_rejects_are_bad_input(labels, message):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": labels})
    with pytest.raises(BadInput, match=rf"target column 'y' has {re.escape(message)}"):
        validate_labelled(frame, "y", "t.csv")


@pytest.mark.parametrize("labels", [[0, 1, 0, 1], [0.0, 1.0, 2.0, 1.0], ["a", "b", "a", "b"]])
def test_integer_valued_and_text_labels_are_classes(labels):
    validate_labelled(pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "y": labels}), "y", "t.csv")


NUMERIC_BAD = [case for case in BAD_VALUES if case[0] in ("missing", "non-finite", "too large")]


@pytest.mark.parametrize(("kind", "values", "message"), NUMERIC_BAD, ids=_ids(NUMERIC_BAD))
def test_what_the_contract_rejects_a_real_estimator_rejects_or_it_is_not_numeric(
    kind, values, message
):
    """Not stricter than scikit-learn without a reason: each rejected numeric class breaks one
    of the training job's classifiers (trees cast to float32; linear models take no gaps);
    object, time and boolean dtypes are refused because a feature must be a number."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": values})
    rejected_by = []
    for estimator in (LogisticRegression(), DecisionTreeClassifier()):
        try:
            estimator.fit(frame, [0, 1, 0, 1])
        except (ValueError, TypeError):
            rejected_by.append(type(estimator).__name__)
    assert rejected_by, f"no classifier rejects {kind} values {values!r}"
