"""python -m jobs.deployment — serve the production model version; do nothing if it already is."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.deployment.job import run
from jobs.deployment.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "deployment",
        Settings,
        run,
        "Serve the production model version behind an HTTP endpoint.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
