"""The real app over a real model trained here, shared by the serving unit tests."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.tree import DecisionTreeClassifier

from jobs.common.data.schema import from_metadata
from jobs.serving.app import create_app
from jobs.serving.model import ServedModel
from jobs.serving.schema import record_adapter

DTYPES = {"sepal_length_cm": "float64", "petal_width_cm": "float64"}
SCHEMA = from_metadata({"feature_schema": DTYPES})  # a model trained before kinds
GOOD = {"sepal_length_cm": 5.1, "petal_width_cm": 0.2}


@pytest.fixture
def client():
    X = pd.DataFrame([GOOD, {"sepal_length_cm": 6.5, "petal_width_cm": 2.0}])
    model = DecisionTreeClassifier().fit(X, ["setosa", "virginica"])
    served = ServedModel("iris_classifier", "7", model, SCHEMA, record_adapter(SCHEMA))
    with TestClient(create_app(lambda: served, background=False)) as test_client:
        yield test_client
