"""The shape every job's ``__main__`` shares: parse flags, load settings, run, map errors."""

from __future__ import annotations

import argparse
import atexit
import gc
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from jobs.common.runtime import logs, settings
from jobs.common.runtime.errors import run_main

S = TypeVar("S", bound=BaseModel)

GC_THRESHOLD = 10_000
"""Allocations between two young-generation collections (CPython's default: 700)."""


def job_main(
    job: str,
    settings_cls: type[S],
    run: Callable[[S], int | None],
    description: str,
    argv: Sequence[str] | None = None,
) -> int:
    logs.configure(job)
    _collect_garbage_sparingly()
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


def _collect_garbage_sparingly() -> None:
    """A job's start creates about half a million objects that live as long as it does (ZenML's
    pydantic models, SQLAlchemy's mappings, scikit-learn): with CPython's default thresholds the
    cyclic collector walks them over and over while they are made, then once more at exit. Measured
    here on a 1 000-row batch inference run: 7.6 s -> 4.6 s from start to exit. Garbage cycles
    are still collected, in larger rounds; objects alive at exit are frozen, so the interpreter's
    last sweep skips them (the process is ending and frees everything at once).
    """
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    atexit.unregister(gc.freeze)  # once, however often a test calls a job's main()
    atexit.register(gc.freeze)
