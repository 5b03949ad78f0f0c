"""The /predict contract, exercised over the real app with a real model trained here."""

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.tree import DecisionTreeClassifier

from jobs.common.data.schema import from_metadata
from jobs.serving.app import create_app
from jobs.serving.model import ServedModel
from jobs.serving.schema import record_adapter

DTYPES = {"sepal_length_cm": "float64", "petal_width_cm": "float64", "count": "int64"}
SCHEMA = from_metadata({"feature_schema": DTYPES})  # a model trained before kinds
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


@pytest.fixture
def mixed_client():
    """A whole pipeline trained here on a table of every kind, served with its schema."""
    from jobs.common.data.schema import infer
    from jobs.training.model import build, fit
    from jobs.training.preprocessing import model_pipeline

    frame = pd.DataFrame(
        {
            "size": [1.0, 2.5, None, 4.0] * 10,
            "colour": ["red", "blue", "red", None] * 10,
            "member": ["yes", "no", "no", "yes"] * 10,
            "since": ["2024/01/05", "2023/11/30", None, "2022/02/01"] * 10,
            "name": [f"n{i}" for i in range(40)],
            "y": ["a", "b", "a", "b"] * 10,
        }
    )
    schema = infer(frame, "y", "t.csv", id_columns=["name"])
    model = fit(model_pipeline(schema, build("hist_gradient_boosting", {}, 0, "classification")),
                frame, "y")  # fmt: skip
    served = ServedModel("shop_classifier", "2", model, schema, record_adapter(schema))
    with TestClient(create_app(lambda: served, background=False)) as test_client:
        yield test_client


MIXED = {"size": 2.5, "colour": "blue", "member": "no", "since": "2023/11/30"}


def test_the_request_follows_the_recorded_kinds_gaps_and_unseen_categories_are_answered(
    mixed_client,
):
    rows = [
        MIXED,
        {"size": None, "colour": None, "member": True, "since": None},  # gaps: imputed
        {**MIXED, "colour": "purple", "name": "n77"},  # unseen category; an identifier, ignored
    ]
    response = mixed_client.post("/predict", json={"records": rows})
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 3
    assert mixed_client.get("/version").json()["features"] == list(MIXED)


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("colour", 3, "string_type"),
        ("size", "big", "float_parsing"),
        ("member", "perhaps", "bool_parsing"),
        ("since", "next week", "value_error"),
    ],
)
def test_a_value_of_the_wrong_kind_is_422_naming_the_field(mixed_client, field, value, kind):
    response = mixed_client.post("/predict", json={"records": [{**MIXED, field: value}]})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "records", 0, field] and detail["type"] == kind


def test_null_is_refused_where_the_model_was_trained_without_gaps(client):
    response = client.post("/predict", json={"records": [{**GOOD, "sepal_length_cm": None}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "sepal_length_cm"
