"""python -m jobs.batch_inference — score partitions with whatever model is in production."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.batch_inference.settings import Settings
from jobs.common.runtime.entrypoint import job_main


def run(settings: Settings) -> int:
    # The body imports pandas, pyarrow and ZenML: here, not above, so `--help` stays fast.
    from jobs.batch_inference import job

    return job.run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "batch_inference",
        Settings,
        run,
        "Score each partition of a table once per production model version, in bounded "
        "memory; --from/--to backfills a range.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
