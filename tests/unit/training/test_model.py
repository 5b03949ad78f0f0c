from typing import get_args

import pytest

from jobs.common.data import iris
from jobs.common.runtime.errors import BadInput
from jobs.feature_engineering.datasets import split
from jobs.training.model import build, fit, score
from jobs.training.params import Classifier, Metric


def test_every_classifier_trains_and_scores_on_iris():
    train, test = split(iris.labelled(), "species", 0.2, 42)
    for name in get_args(Classifier):
        metrics = score(fit(build(name, {}, 42), train, "species"), test, "species")
        assert 0.8 <= metrics["accuracy"] <= 1.0, name
        assert set(metrics) == set(get_args(Metric))


def test_a_crippled_model_scores_lower_than_the_default():
    train, test = split(iris.labelled(), "species", 0.2, 42)
    good = score(fit(build("logistic_regression", {}, 42), train, "species"), test, "species")
    stump = score(
        fit(build("decision_tree", {"max_depth": 1}, 42), train, "species"), test, "species"
    )
    assert stump["accuracy"] < 0.9 <= good["accuracy"]


def test_unknown_hyperparameter_is_bad_config():
    with pytest.raises(BadInput, match="hyperparameters for random_forest"):
        build("random_forest", {"depth": 3}, 0)


def test_split_is_stratified_and_reproducible():
    first, test = split(iris.labelled(), "species", 0.2, 7)
    again, _ = split(iris.labelled(), "species", 0.2, 7)
    assert len(first) == 120 and len(test) == 30
    assert test["species"].value_counts().to_dict() == {
        "setosa": 10,
        "versicolor": 10,
        "virginica": 10,
    }
    assert first.equals(again)
