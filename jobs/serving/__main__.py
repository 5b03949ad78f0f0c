"""python -m jobs.serving — serve one model version over HTTP (default: production)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.serving import job
from jobs.serving.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "serving",
        Settings,
        job.run,
        "Serve a model version from ZenML over HTTP (POST /predict).",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
