"""Oversized and deeply nested requests are refused cleanly (413, one line), and nothing a
client can send makes the real app answer 500."""

from __future__ import annotations

import json

import pytest

from jobs.serving.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth
from tests.unit.serving.conftest import GOOD


def nested(depth: int) -> str:
    return '{"records": [' + "[" * depth + "]" * depth + "]}"


def test_a_hundred_thousand_records_are_refused_by_size_before_parsing(client):
    body = json.dumps({"records": [GOOD] * 100_000})
    assert len(body) > MAX_BODY_BYTES
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body over the limit of {MAX_BODY_BYTES} bytes"}
    assert client.post("/predict", json={"records": [GOOD]}).status_code == 200  # still serving


def test_a_body_streamed_without_a_length_is_cut_at_the_limit(client):
    chunk = json.dumps(GOOD).encode() + b","

    def stream():
        yield b'{"records": ['
        for _ in range(MAX_BODY_BYTES // len(chunk) + 10):
            yield chunk

    response = client.post("/predict", content=stream())
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_is_refused_not_a_500(client, depth):
    response = client.post(
        "/predict", content=nested(depth), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"JSON nested deeper than the limit of {MAX_JSON_DEPTH}"}


def test_the_largest_allowed_request_and_modest_nesting_still_answer(client):
    largest = client.post("/predict", json={"records": [GOOD] * 10_000})
    assert largest.status_code == 200 and len(largest.json()["predictions"]) == 10_000
    within = client.post("/predict", content=nested(MAX_JSON_DEPTH - 3))
    assert within.status_code == 422  # parsed, and refused by the schema, naming the field


@pytest.mark.parametrize(
    "value", [1e39, -1e300, 1.7976931348623157e308, 10**40, "NaN", "Infinity", "x", None]
)
def test_values_the_model_cannot_take_are_422_not_500(client, value):
    body = f'{{"records": [{{"sepal_length_cm": {json.dumps(value)}, "petal_width_cm": 0.2}}]}}'
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "sepal_length_cm"


@pytest.mark.parametrize(
    ("text", "depth"),
    [(b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'{"a": "[[[[{{{"}', 1), (b'"\\"[["', 0)],
)
def test_json_depth_ignores_brackets_inside_strings(text, depth):
    assert json_depth(text) == depth
