"""Prometheus metrics of the endpoint, served at /metrics in Prometheus' text format.

Each app gets its own registry, so two apps in one process (tests) never share counters. Routes
are labelled by their template (``/predict``), never by the raw path, so a scanner hitting random
URLs cannot blow up the number of series: anything unrouted is ``route="other"``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Predictions take milliseconds; a model still loading or a huge batch takes seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "handoff_http_requests",
            "HTTP requests answered, by route, method and status code",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "handoff_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            "handoff_predicted_rows",
            "Rows predicted by /predict",
            ["model", "version"],
            registry=self.registry,
        )
        self.model = Gauge(
            "handoff_model_info",
            "The model version this process serves (value 1), by name and version",
            ["model", "version"],
            registry=self.registry,
        )
        self.load_seconds = Gauge(
            "handoff_model_load_seconds",
            "Seconds it took to load the served model version from ZenML",
            registry=self.registry,
        )
        self.loaded_at = Gauge(
            "handoff_model_loaded_timestamp_seconds",
            "Unix time at which the served model version finished loading",
            registry=self.registry,
        )

    def model_loaded(self, name: str, version: str, seconds: float) -> None:
        self.model.labels(model=name, version=version).set(1)
        self.load_seconds.set(seconds)
        self.loaded_at.set(time.time())

    def predicted(self, name: str, version: str, rows: int) -> None:
        self.rows.labels(model=name, version=version).inc(rows)

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE)

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500  # an exception escaping the app is what the client sees as a 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "other")
            self.requests.labels(route=route, method=request.method, status=str(status)).inc()
            self.latency.labels(route=route).observe(time.perf_counter() - started)
