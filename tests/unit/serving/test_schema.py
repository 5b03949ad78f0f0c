"""The /predict contract, exercised over the real app with a real model trained here."""

import pytest
from fastapi.testclient import TestClient
from sklearn.tree import DecisionTreeClassifier

from jobs.serving.app import create_app
from jobs.serving.model import ServedModel
from jobs.serving.schema import record_adapter

SCHEMA = {"sepal_length_cm": "float64", "petal_width_cm": "float64", "count": "int64"}
GOOD = {"sepal_length_cm": 5.1, "petal_width_cm": 0.2, "count": 3}


@pytest.fixture
def client():
    import pandas as pd

    X = pd.DataFrame([GOOD, {"sepal_length_cm": 6.5, "petal_width_cm": 2.0, "count": 1}])
    model = DecisionTreeClassifier().fit(X, ["setosa", "virginica"])
    served = ServedModel("iris_classifier", "7", model, SCHEMA, record_adapter(SCHEMA))
    with TestClient(create_app(lambda: served, background=False)) as test_client:
        yield test_client


def test_predict_answers_with_predictions_and_the_model_version(client):
    response = client.post("/predict", json={"records": [GOOD, GOOD]})
    assert response.status_code == 200
    assert response.json() == {
        "predictions": ["setosa", "setosa"],
        "model": "iris_classifier",
        "version": "7",
    }


@pytest.mark.parametrize(
    ("record", "field", "kind"),
    [
        ({k: v for k, v in GOOD.items() if k != "petal_width_cm"}, "petal_width_cm", "missing"),
        ({**GOOD, "sepal_length_cm": "long"}, "sepal_length_cm", "float_parsing"),
        ({**GOOD, "colour": 1.0}, "colour", "extra_forbidden"),
        ({**GOOD, "count": 2.5}, "count", "int_from_float"),
    ],
)
def test_bad_records_are_422_naming_the_field(client, record, field, kind):
    response = client.post("/predict", json={"records": [GOOD, record]})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "records", 1, field]
    assert detail["type"] == kind


def test_an_empty_request_is_422(client):
    assert client.post("/predict", json={"records": []}).status_code == 422
    assert client.post("/predict", json={"rows": [GOOD]}).status_code == 422


def test_health_readiness_and_version(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/version").json()["version"] == "7"


def test_not_ready_until_the_model_loads():
    def failing_loader() -> ServedModel:
        raise RuntimeError("no production version")

    with TestClient(create_app(failing_loader, background=False)) as test_client:
        assert test_client.get("/healthz").status_code == 200
        ready = test_client.get("/readyz")
        assert ready.status_code == 503 and "no production version" in ready.json()["error"]
        assert test_client.post("/predict", json={"records": [GOOD]}).status_code == 503
