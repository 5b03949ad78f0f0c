"""The shape every job's ``__main__`` shares: parse flags, load settings, run, map errors."""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from jobs.common import logs, settings
from jobs.common.errors import run_main

S = TypeVar("S", bound=BaseModel)


def job_main(
    job: str,
    settings_cls: type[S],
    run: Callable[[S], int | None],
    description: str,
    argv: Sequence[str] | None = None,
) -> int:
    logs.configure(job)
    # As PID 1 in a container, Python ignores SIGTERM unless asked: stop cleanly when the pod
    # is deleted instead of being killed after the grace period.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog=f"python -m jobs.{job}", description=description)
    settings.add_flags(parser, settings_cls)
    args = parser.parse_args(argv)

    def go() -> int | None:
        config = settings.load(settings_cls, f"jobs.{job}", args.config, vars(args))
        return run(config)

    return run_main(go, job)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
