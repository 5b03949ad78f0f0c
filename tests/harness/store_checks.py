"""What the store adapter assumes of ZenML, checked in a process of its own against the store
its environment names: `python -m tests.harness.store_checks <check>` prints one JSON line."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def lease_renewal() -> dict[str, Any]:
    """A held lease's tag: its `updated` before and after one renewal period, and whether a
    second holder could take it meanwhile and after release."""
    from zenml.client import Client

    from jobs.common.store import leases

    name = "handoff-check-lease"
    lease = leases.try_acquire(name, leases.Observations())
    assert lease is not None
    before = Client().get_tag(name, allow_name_prefix_match=False).updated
    time.sleep(leases.RENEW_S * 1.5)
    after = Client().get_tag(name, allow_name_prefix_match=False).updated
    rival = leases.try_acquire(name, leases.Observations())
    holder = leases.current_holder(name)
    lease.release()
    again = leases.try_acquire(name, leases.Observations())
    if again is not None:
        again.release()
    return {
        "renewed": after > before,
        "rival_held": rival is not None,
        "holder": holder,
        "free_after_release": again is not None,
    }


def hold() -> dict[str, Any]:
    """Run a one-step pipeline whose step waits (until a file ``release`` appears here, at most
    two minutes): a run that stays unfinished while a test looks at it."""
    from zenml import pipeline

    run = pipeline(enable_cache=False, name=PIPELINE)(_waiting_step)()
    return {"run": str(run.id) if run else None}


def mark_failed() -> dict[str, Any]:
    """The unfinished run of ``hold``, marked failed through the adapter, read back."""
    from zenml.client import Client

    from jobs.common.store import stuck_runs

    client = Client()
    deadline = time.monotonic() + 120
    while True:
        running = client.list_pipeline_runs(pipeline_name=PIPELINE, status="running", size=1)
        if running.items or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    (run,) = running.items
    stuck_runs.mark_failed(client, client.get_pipeline_run(run.id), "checked by the tests")
    found = client.get_pipeline_run(run.id)
    return {
        "status": str(found.status.value),
        "steps": sorted(str(s.status.value) for s in found.steps.values()),
        "reason": found.body.status_reason,
        "recorded": found.run_metadata.get("handoff_failure"),
    }


PIPELINE = "handoff_check"


def _waiting_step() -> None:
    from zenml import step

    step(_wait)()


def _wait() -> None:
    from pathlib import Path

    deadline = time.monotonic() + 120
    while not Path("release").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


if __name__ == "__main__":
    print(
        json.dumps(
            {"lease_renewal": lease_renewal, "hold": hold, "mark_failed": mark_failed}[
                sys.argv[1]
            ]()
        )
    )
