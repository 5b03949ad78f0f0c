"""python -m jobs.training — train on the named datasets, promote the model if it earns it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.training import job
from jobs.training.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "training",
        Settings,
        job.run,
        "Train a classifier on the named datasets and promote it if it earns it.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
