"""python -m jobs.monitoring — join a partition's labels to its predictions and record the
realized quality; with retrain_below, a decayed model starts training."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.monitoring.settings import Settings


def run(settings: Settings) -> int:
    # The body imports ZenML and pandas: here, not above, so `--help` stays fast.
    from jobs.monitoring import job

    return job.run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "monitoring",
        Settings,
        run,
        "Join the labels that arrived for a scored partition to its newest predictions, record "
        "the realized quality on them, and start training when it fell below retrain_below.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
