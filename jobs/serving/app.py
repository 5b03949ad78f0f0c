"""The HTTP service: /predict, /healthz, /readyz, /version, /metrics (Prometheus).

The model loads in a background thread so /healthz answers at once and /readyz turns 200 only
when predictions can be served (what Kubernetes' readiness probe and the deploy targets wait on).
A failed load (a ZenML outage while the pod starts) is retried with a growing pause; /readyz says
``failed`` with the last error meanwhile (a deploy target gives up at once), and once the pod has
gone ``load_deadline_s`` without a model /healthz fails too, so the liveness probe restarts it
instead of leaving it unready for ever.
"""

from __future__ import annotations

import itertools
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

# Pauses between load attempts: 1 s, doubling, at most a minute.
FIRST_RETRY_S = 1.0
MAX_RETRY_S = 60.0
# How long a pod may go without a model before it reports itself dead (liveness fails).
LOAD_DEADLINE_S = 600.0


class ModelSlot:
    def __init__(
        self,
        loader: Callable[[], ServedModel],
        metrics: ServingMetrics,
        load_deadline_s: float = LOAD_DEADLINE_S,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model: ServedModel | None = None
        self.error: str | None = None
        self.retry_in_s: float | None = None
        self._loader = loader
        self._metrics = metrics
        self._deadline_s = load_deadline_s
        self._clock = clock
        self._pause = pause
        self._since = clock()

    def load(self, attempts: int | None = None) -> None:
        """Until the model is loaded (or ``attempts`` have failed), pausing longer each time."""
        wait = FIRST_RETRY_S
        for attempt in itertools.count(1):
            if self._load_once(attempt, wait) or attempt == attempts:
                return
            self._pause(wait)
            wait = min(wait * 2, MAX_RETRY_S)

    def _load_once(self, attempt: int, wait: float) -> bool:
        try:
            started = time.monotonic()
            model = self._loader()
            seconds = time.monotonic() - started
        except Exception as err:  # noqa: BLE001 - reported by /readyz and retried, not a crash loop
            self.error = f"{type(err).__name__}: {err}"
            self.retry_in_s = wait
            log.error(
                "cannot load the model (attempt %d, next in %.0fs): %s", attempt, wait, self.error
            )
            return False
        self._metrics.model_loaded(model.name, model.version, seconds)
        self.model, self.error, self.retry_in_s = model, None, None
        log.info(
            "serving %s version %s (loaded in %.1fs)",
            model.name,
            model.version,
            seconds,
            extra={"model": model.name, "version": model.version},
        )
        return True

    def alive(self) -> bool:
        """A model, or still within the time a load may take (retries included)."""
        return self.model is not None or self._clock() - self._since < self._deadline_s


def create_app(
    loader: Callable[[], ServedModel],
    background: bool = True,
    load_deadline_s: float = LOAD_DEADLINE_S,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> FastAPI:
    """The app; ``background=False`` tries one load before serving (tests: ``app.state.model``
    is the slot, for more attempts)."""
    metrics = ServingMetrics()
    slot = ModelSlot(loader, metrics, load_deadline_s, clock, pause)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            threading.Thread(target=slot.load, name="model-loader", daemon=True).start()
        else:
            slot.load(attempts=1)
        yield

    app = FastAPI(title="handoff serving", lifespan=lifespan)
    app.state.model = slot
    app.middleware("http")(metrics.middleware)
    app.add_middleware(RequestLimits)  # outermost: refuses oversized bodies before any parsing

    def not_ready() -> JSONResponse:
        status: dict[str, Any] = {"status": "loading"}
        if slot.error:
            status = {"status": "failed", "error": slot.error, "retry_in_s": slot.retry_in_s}
        return JSONResponse(status, status_code=503)

    @app.get("/healthz", response_model=None)
    def healthz() -> dict[str, str] | JSONResponse:
        if slot.alive():
            return {"status": "ok"}
        return JSONResponse({"status": "no model", "error": slot.error}, status_code=503)

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
            "features": list(slot.model.schema.features),
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
        frame = pd.DataFrame(
            [row.model_dump() for row in rows], columns=list(model.schema.features)
        )
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
