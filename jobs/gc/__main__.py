"""python -m jobs.gc — list (or, with --apply, delete) what the retention rules select."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jobs.common.runtime.entrypoint import job_main
from jobs.gc.settings import Settings


def run(settings: Settings) -> int:
    # The body imports ZenML: here, not above, so `--help` stays fast.
    from jobs.gc import job

    return job.run(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return job_main(
        "gc",
        Settings,
        run,
        "Delete old partitions, model versions, datasets and the leftovers of killed runs, by "
        "the retention rules; a dry run unless --apply.",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
