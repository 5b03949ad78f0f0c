"""The serving job: one model version (default: production) behind HTTP until stopped."""

from __future__ import annotations

from jobs.serving.settings import Settings


def run(settings: Settings) -> int:
    # uvicorn, FastAPI and ZenML are imported here, not above: `--help` stays fast.
    import uvicorn

    from jobs.serving import model
    from jobs.serving.app import create_app

    app = create_app(
        lambda: model.load(settings.model_name, settings.model_version, settings.model_artifact),
        load_deadline_s=settings.load_deadline_s,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
