"""python -m jobs.serving — serve one model version over HTTP (default: production)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.serving.settings import Settings


def run(settings: Settings) -> int:
    import uvicorn

    from jobs.serving import model
    from jobs.serving.app import create_app

    app = create_app(
        lambda: model.load(settings.model_name, settings.model_version, settings.model_artifact),
        load_deadline_s=settings.load_deadline_s,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "serving",
        Settings,
        run,
        "Serve a model version from ZenML over HTTP (POST /predict).",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
