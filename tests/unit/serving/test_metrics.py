"""/metrics in Prometheus' text format, over the real app with a real model trained here."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sklearn.tree import DecisionTreeClassifier

from jobs.serving.app import create_app
from jobs.serving.model import ServedModel
from jobs.serving.schema import record_adapter
from tests.unit.serving.conftest import GOOD, SCHEMA


def samples(client: TestClient) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_requests_rows_and_name_the_served_version(client):
    for _ in range(2):
        assert client.post("/predict", json={"records": [GOOD, GOOD, GOOD]}).status_code == 200
    assert client.post("/predict", json={"records": [{"colour": 1}]}).status_code == 422
    assert client.get("/no/such/page").status_code == 404

    found = samples(client)

    def value(name: str, **labels: str) -> float:
        return found[(name, frozenset(labels.items()))]

    requests = "handoff_http_requests_total"
    assert value(requests, route="/predict", method="POST", status="200") == 2
    assert value(requests, route="/predict", method="POST", status="422") == 1
    assert value(requests, route="other", method="GET", status="404") == 1
    assert value("handoff_predicted_rows_total", model="iris_classifier", version="7") == 6
    assert value("handoff_model_info", model="iris_classifier", version="7") == 1
    assert value("handoff_model_load_seconds") >= 0
    assert value("handoff_http_request_duration_seconds_bucket", route="/predict", le="+Inf") == 3


def test_two_apps_in_one_process_keep_their_own_counts(client):
    client.post("/predict", json={"records": [GOOD]})
    X = pd.DataFrame([GOOD, {"sepal_length_cm": 6.5, "petal_width_cm": 2.0}])
    model = DecisionTreeClassifier().fit(X, ["a", "b"])
    other = ServedModel("other", "1", model, SCHEMA, record_adapter(SCHEMA))
    with TestClient(create_app(lambda: other, background=False)) as second:
        found = samples(second)
    assert not any(name == "handoff_predicted_rows_total" for name, _ in found)
