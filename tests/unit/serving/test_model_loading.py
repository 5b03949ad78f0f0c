"""A pod started while ZenML is down: the load is retried with a growing pause until it works,
/readyz says why it is not ready meanwhile, and a pod that stays without a model past its
deadline fails /healthz (liveness), so Kubernetes restarts it instead of keeping it unready."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jobs.serving.app import MAX_RETRY_S, ModelSlot, create_app
from jobs.serving.metrics import ServingMetrics
from jobs.serving.model import ServedModel


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def model() -> ServedModel:
    return ServedModel("iris_classifier", "7", object(), {}, None)  # type: ignore[arg-type]


def flaky(failures: int):
    """A loader that fails ``failures`` times (the server is down), then loads."""
    calls = []

    def load() -> ServedModel:
        calls.append(1)
        if len(calls) <= failures:
            raise ConnectionError("ZenML server unreachable")
        return model()

    return load, calls


def test_a_failed_load_is_retried_with_a_growing_pause_until_it_works() -> None:
    loader, calls = flaky(3)
    pauses: list[float] = []
    slot = ModelSlot(loader, ServingMetrics(), pause=pauses.append)
    slot.load()
    assert slot.model is not None and slot.error is None and len(calls) == 4
    assert pauses == [1.0, 2.0, 4.0]


def test_the_pause_between_attempts_is_bounded() -> None:
    loader, _ = flaky(10)
    pauses: list[float] = []
    ModelSlot(loader, ServingMetrics(), pause=pauses.append).load()
    assert max(pauses) == MAX_RETRY_S and pauses == sorted(pauses)


def test_readiness_says_failed_with_the_error_while_it_retries() -> None:
    loader, _ = flaky(1)
    app = create_app(loader, background=False, pause=lambda s: None)
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {
            "status": "failed",
            "error": "ConnectionError: ZenML server unreachable",
            "retry_in_s": 1.0,
        }
        assert client.get("/healthz").status_code == 200  # still within its deadline
        app.state.model.load()  # the next attempt: the server is back
        assert client.get("/readyz").status_code == 200


def test_liveness_fails_once_the_pod_has_gone_its_deadline_without_a_model() -> None:
    clock = Clock()
    loader, _ = flaky(100)
    with TestClient(
        create_app(loader, background=False, load_deadline_s=600, clock=clock)
    ) as client:
        clock.now += 599
        assert client.get("/healthz").status_code == 200
        clock.now += 2
        dead = client.get("/healthz")
        assert dead.status_code == 503 and "unreachable" in dead.json()["error"]


def test_a_loaded_model_keeps_the_pod_alive_whatever_the_clock() -> None:
    """And its metrics say which version loaded."""
    clock = Clock()
    with TestClient(create_app(model, background=False, load_deadline_s=1, clock=clock)) as client:
        clock.now += 3600
        assert client.get("/healthz").status_code == 200
        assert (
            'handoff_model_info{model="iris_classifier",version="7"} 1.0'
            in client.get("/metrics").text
        )
