"""The HTTP service: /predict, /healthz, /readyz, /version, /metrics (Prometheus).

The model loads in a background thread so /healthz answers at once and /readyz turns 200 only
when predictions can be served (what Kubernetes' readiness probe and the deploy targets wait on).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pandas as pd
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from jobs.serving.limits import RequestLimits
from jobs.serving.metrics import ServingMetrics
from jobs.serving.model import ServedModel
from jobs.serving.schema import PredictRequest

log = logging.getLogger("handoff")


class ModelSlot:
    def __init__(self, loader: Callable[[], ServedModel], metrics: ServingMetrics) -> None:
        self.model: ServedModel | None = None
        self.error: str | None = None
        self._loader = loader
        self._metrics = metrics

    def load(self) -> None:
        try:
            started = time.monotonic()
            model = self._loader()
            seconds = time.monotonic() - started
            self._metrics.model_loaded(model.name, model.version, seconds)
            self.model = model
            log.info(
                "serving %s version %s (loaded in %.1fs)",
                model.name,
                model.version,
                seconds,
                extra={"model": model.name, "version": model.version},
            )
        except Exception as err:  # noqa: BLE001 - reported by /readyz, not a crash loop
            self.error = f"{type(err).__name__}: {err}"
            log.error("cannot load the model: %s", self.error)


def create_app(loader: Callable[[], ServedModel], background: bool = True) -> FastAPI:
    metrics = ServingMetrics()
    slot = ModelSlot(loader, metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            threading.Thread(target=slot.load, name="model-loader", daemon=True).start()
        else:
            slot.load()
        yield

    app = FastAPI(title="handoff serving", lifespan=lifespan)
    app.middleware("http")(metrics.middleware)
    app.add_middleware(RequestLimits)  # outermost: refuses oversized bodies before any parsing

    def not_ready() -> JSONResponse:
        status = {"status": "failed", "error": slot.error} if slot.error else {"status": "loading"}
        return JSONResponse(status, status_code=503)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", response_model=None)
    def readyz() -> dict[str, str] | JSONResponse:
        return {"status": "ready"} if slot.model else not_ready()

    @app.get("/version", response_model=None)
    def version() -> dict[str, Any] | JSONResponse:
        if slot.model is None:
            return not_ready()
        return {
            "model": slot.model.name,
            "version": slot.model.version,
            "features": list(slot.model.schema),
        }

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return metrics.exposition()

    @app.post("/predict", response_model=None)
    def predict(request: PredictRequest) -> dict[str, Any] | JSONResponse:
        model = slot.model
        if model is None:
            return not_ready()
        try:
            rows = model.records.validate_python(request.records)
        except ValidationError as err:
            return JSONResponse(
                {
                    "detail": [
                        {"loc": ["body", "records", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                        for e in err.errors()
                    ]
                },
                status_code=422,
            )
        frame = pd.DataFrame([row.model_dump() for row in rows], columns=list(model.schema))
        predictions = model.estimator.predict(frame)
        metrics.predicted(model.name, model.version, len(predictions))
        return {
            "predictions": [_plain(p) for p in predictions],
            "model": model.name,
            "version": model.version,
        }

    return app


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
