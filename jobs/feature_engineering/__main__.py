"""python -m jobs.feature_engineering — publish the training and testing datasets."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.feature_engineering import job
from jobs.feature_engineering.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "feature_engineering",
        Settings,
        job.run,
        "Turn a raw table into named, versioned training and testing datasets.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
