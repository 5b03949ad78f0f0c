"""The garbage collector: a dry run lists what the retention rules select; ``--apply`` deletes
it in a pipeline run (its summary is what ``handoff status`` shows), one collector at a time."""

from __future__ import annotations

from collections.abc import Callable

from jobs.common.runtime.connection import connect
from jobs.common.store import leases, stuck_runs
from jobs.gc import collect
from jobs.gc.params import GcParams
from jobs.gc.settings import Settings

LEASE = "handoff-gc"
LEASE_WAIT_S = 60.0
"""Long enough for a killed collector's lease to expire (leases.EXPIRY_S of no renewal)."""


def run(settings: Settings, say: Callable[[str], None] = print) -> int:
    params = settings.params()
    collect.rules(params)  # a bad duration is exit 2 before anything is read
    connect()
    if not settings.apply:
        collect.dry_run(params, say)  # reads only: no run, no lease, nothing written
        return 0
    try:
        with leases.held(LEASE, LEASE_WAIT_S):
            _run_pipeline(params)
    except leases.StillHeld as err:
        say(f"another gc is running ({err.holder or 'unknown'}); nothing to do")
    return 0


def _run_pipeline(params: GcParams) -> None:
    from jobs.gc.pipeline import gc

    with stuck_runs.running("gc") as tags:
        gc.with_options(tags=tags)(params=params)
