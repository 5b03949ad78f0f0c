import uuid

import pytest

from jobs.common.runtime.errors import BadInput
from jobs.training.params import DatasetRef, ModelChoice
from jobs.training.preflight import Dataset, params

SCHEMA = {"a": "float64", "b": "float64"}


def dataset(name: str, **metadata: object) -> Dataset:
    return Dataset(DatasetRef(name=name, version="3", id=uuid.uuid4()), metadata)


def test_the_run_gets_the_resolved_versions_the_label_and_the_model_choice():
    train = dataset("t_train", target_column="y", feature_schema=SCHEMA)
    test = dataset("t_test", target_column="y", feature_schema=SCHEMA)
    choice = ModelChoice(classifier="knn", threshold=0.5)
    run = params(choice, train, test)
    assert (run.training, run.testing, run.target_column) == (train.ref, test.ref, "y")
    # metric auto: fair under imbalanced classes
    assert (run.classifier, run.threshold, run.metric) == ("knn", 0.5, "balanced_accuracy")
    assert run.training.record() == {"name": "t_train", "version": "3"}


def test_a_training_dataset_without_a_label_is_bad_input():
    with pytest.raises(BadInput, match="t_train version 3 has no target_column"):
        params(ModelChoice(), dataset("t_train", feature_schema=SCHEMA), dataset("t_test"))


def test_datasets_with_different_columns_are_bad_input():
    train = dataset("t_train", target_column="y", feature_schema=SCHEMA)
    test = dataset("t_test", target_column="y", feature_schema={"a": "float64"})
    with pytest.raises(BadInput, match="t_train version 3 and t_test version 3 have different"):
        params(ModelChoice(), train, test)


def test_a_numeric_target_is_judged_by_its_error_with_a_regressor():
    schema = {"columns": {"a": {"kind": "numeric"}}, "target": "y", "task": "regression"}
    train = dataset("t_train", target_column="y", feature_schema=SCHEMA, schema=schema)
    test = dataset("t_test", target_column="y", feature_schema=SCHEMA, schema=schema)
    assert params(ModelChoice(), train, test).metric == "rmse"
    with pytest.raises(BadInput, match="metric 'accuracy' does not judge regression"):
        params(ModelChoice(metric="accuracy"), train, test)
    with pytest.raises(BadInput, match="'logistic_regression' does not do regression"):
        params(ModelChoice(classifier="logistic_regression"), train, test)
