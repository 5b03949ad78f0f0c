"""The model is one pipeline (the schema's reading of raw columns, preprocessing, estimator),
for classes and for numbers, judged against a trivial baseline."""

import numpy as np
import pandas as pd
import pytest

from jobs.common.data import iris
from jobs.common.data.schema import infer
from jobs.common.runtime.errors import BadInput
from jobs.training import rows
from jobs.training.model import ESTIMATORS, METRICS, baseline, build, fit, score
from jobs.training.preprocessing import model_pipeline


def split(frame: pd.DataFrame, target: str, random_state: int = 42):
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(frame, test_size=0.2, random_state=random_state)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def fitted(name: str, frame: pd.DataFrame, target: str, **hyper):
    schema = infer(frame, target, "t")
    train, test = split(frame, target)
    model = fit(model_pipeline(schema, build(name, hyper, 42, schema.task)), train.copy(), target)
    return model, train, test, schema


def mixed(rows: int = 600) -> pd.DataFrame:
    """A table of every feature kind, gaps in each, and a class that depends on them."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    member = rng.choice(["yes", "no"], size=rows)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    label = np.where(x + 2 * (colour == "red") > 0.5, "a", "b")
    frame = pd.DataFrame(
        {
            "x": x,
            "colour": colour,
            "member": member,
            "when": when.strftime("%Y/%m/%d"),
            "label": label,
        }
    )
    for column in ("x", "colour", "member", "when"):
        frame.loc[rng.random(rows) < 0.05, column] = None
    return frame


@pytest.mark.parametrize("name", list(ESTIMATORS["classification"]))
def test_every_classifier_trains_on_iris_and_scores_every_classification_metric(name):
    model, _, test, schema = fitted(name, iris.labelled(), "species")
    metrics = score(model, test, "species", schema.task)
    assert 0.8 <= metrics["accuracy"] <= 1.0, name
    assert set(metrics) == set(METRICS["classification"])


@pytest.mark.parametrize("name", list(ESTIMATORS["classification"]))
def test_every_classifier_learns_categories_gaps_dates_and_booleans(name):
    model, train, test, schema = fitted(name, mixed(), "label")
    assert {c.kind for c in schema.features.values()} == {
        "numeric",
        "categorical",
        "boolean",
        "datetime",
    }
    trivial = baseline(train["label"], test["label"], "classification")
    assert score(model, test, "label")["balanced_accuracy"] > trivial["balanced_accuracy"] + 0.2


@pytest.mark.parametrize("name", list(ESTIMATORS["regression"]))
def test_every_regressor_beats_the_mean_on_a_numeric_target(name):
    frame = mixed().drop(columns=["label"])
    frame["y"] = 3 * frame["x"].fillna(0) + (frame["colour"] == "red") * 2.5 + 0.1
    model, train, test, schema = fitted(name, frame, "y")
    assert schema.task == "regression"
    metrics = score(model, test, "y", "regression")
    assert set(metrics) == {"rmse", "mae", "r2"}
    assert metrics["rmse"] < baseline(train["y"], test["y"], "regression")["rmse"]


def test_an_unseen_category_and_a_gap_are_predicted_not_refused():
    model, _, test, _ = fitted("hist_gradient_boosting", mixed(), "label")
    rows = test.drop(columns=["label"]).head(3).copy()
    rows.loc[:, "colour"] = ["purple", None, "red"]
    assert len(model.predict(rows)) == 3


def test_a_crippled_model_scores_lower_than_the_default():
    good, _, test, _ = fitted("hist_gradient_boosting", iris.labelled(), "species")
    stump, *_ = fitted("decision_tree", iris.labelled(), "species", max_depth=1)
    assert (
        score(stump, test, "species")["accuracy"] < 0.9 <= score(good, test, "species")["accuracy"]
    )


def test_unknown_hyperparameter_and_a_wrong_task_are_bad_config():
    with pytest.raises(BadInput, match="hyperparameters for random_forest"):
        build("random_forest", {"depth": 3}, 0)
    with pytest.raises(BadInput, match="classifier 'ridge' does not do classification"):
        build("ridge", {}, 0, "classification")


def test_the_sample_is_uniform_bounded_and_reproducible(tmp_path, monkeypatch):
    monkeypatch.setattr(rows, "BATCH_ROWS", 1_000)
    pd.DataFrame({"a": np.arange(10_000)}).to_parquet(tmp_path / "part-00000.parquet")
    picked, total = rows.sample(str(tmp_path), 1_000, 7)
    again, _ = rows.sample(str(tmp_path), 1_000, 7)
    assert total == 10_000 and len(picked) == 1_000 and picked.equals(again)
    assert picked["a"].is_unique and 4_000 < picked["a"].mean() < 6_000
    everything, _ = rows.sample(str(tmp_path), 20_000, 7)
    assert list(everything["a"]) == list(range(10_000))
