"""Runs left ``running`` by a job that died are marked failed, with the reason.

A SIGKILLed or OOM-killed job cannot tell ZenML that its run ended, so the run would show
``running`` for good (ZenML #3440 reports the same class of stuck run). Each job therefore holds
a lease (``jobs.common.store.leases``) while its pipeline runs and gives the run the lease's tag.
The next job of the same pipeline, at its start, and ``handoff status`` look at the pipeline's
unfinished runs: one whose lease expired (or is gone) belongs to a dead job and is marked failed
with the reason, its unfinished steps too; a run whose job still renews its lease is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobs.common.store import leases

log = logging.getLogger("handoff")

RUN_LEASE_PREFIX = "handoff-run-lease-"
UNFINISHED = ("initializing", "provisioning", "running")


@dataclass(frozen=True)
class FailedRun:
    pipeline: str
    run: str
    reason: str


@contextmanager
def running(pipeline: str) -> Iterator[list[str]]:
    """Around one job's pipeline run: fail the pipeline's runs whose job died, and hold a lease
    for this job's own run. Yields the tags to give the run (``with_options(tags=...)``).

    The dead runs are looked at on the way in and again on the way out: a job started at once
    after a kill sees a lease that has not yet expired, and sees it expired by its own end.
    """
    observed = leases.Observations()
    _report(fail_dead_runs(pipeline, f"the next {pipeline} job", observed))
    name = f"{RUN_LEASE_PREFIX}{pipeline}-{leases.holder_name()}"
    lease = leases.try_acquire(name, leases.Observations())
    if lease is None:  # a fresh random name cannot be taken: the server refused it
        raise RuntimeError(f"cannot create the run lease {name}")
    try:
        yield [name]
    finally:
        lease.release()
    _report(fail_dead_runs(pipeline, f"the next {pipeline} job", observed))


def _report(failed: list[FailedRun]) -> None:
    for run in failed:
        log.warning("marked run %s failed: %s", run.run, run.reason)


def fail_dead_runs(
    pipeline: str, found_by: str, observed: leases.Observations | None = None
) -> list[FailedRun]:
    """Mark failed every unfinished run of `pipeline` whose job no longer renews its lease."""
    from zenml.client import Client

    client = Client()
    observed = observed or leases.Observations()
    failed = []
    for run in _unfinished(client, pipeline):
        reason = _death(client, run, observed)
        if reason is not None:
            reason = f"{reason}; marked failed by {found_by} at {_now()}"
            mark_failed(client, run, reason)
            failed.append(FailedRun(pipeline, run.name, reason))
    return failed


def live_runs(pipeline: str) -> list[str]:
    """The names of `pipeline`'s unfinished runs whose job renewed its lease lately (within
    ``leases.STALE_S``): at work now, as far as one look can tell. Reads only."""
    from zenml.client import Client

    client = Client()
    live = []
    for run in _unfinished(client, pipeline):
        names = _lease_names(run)
        try:
            tag = client.get_tag(names[0], allow_name_prefix_match=False, hydrate=False)
        except (IndexError, KeyError):
            continue  # not a handoff job's run, or its job released the lease: it ended
        if leases.age_s(tag.updated) <= leases.STALE_S:
            live.append(str(run.name))
    return live


def _unfinished(client: Any, pipeline: str) -> Iterator[Any]:
    """The pipeline's runs in an unfinished state, hydrated (none if it never ran)."""
    try:
        client.get_pipeline(pipeline)
    except KeyError:
        return
    for status in UNFINISHED:
        yield from client.list_pipeline_runs(
            pipeline_name=pipeline, status=status, size=50, hydrate=True
        ).items


def _lease_names(run: Any) -> list[str]:
    return [t.name for t in run.tags if t.name.startswith(RUN_LEASE_PREFIX)]


def _death(client: Any, run: Any, observed: leases.Observations) -> str | None:
    """Why the run's job is dead, or None if it is alive (or not ours to judge)."""
    names = _lease_names(run)
    if not names:
        return None  # not started by a handoff job that holds a lease: leave it alone
    try:
        tag = client.get_tag(names[0], allow_name_prefix_match=False, hydrate=False)
    except KeyError:
        # Released: the job ended. It releases only after its run finished, so a run still
        # unfinished now (asked again: it may have just finished) was left behind.
        if _status(client.get_pipeline_run(run.id, hydrate=False)) not in UNFINISHED:
            return None
        return f"the job that ran it ({_holder(names[0])}) ended without finishing it"
    if not observed.expired(tag):
        return None
    holder = _holder(names[0])
    seconds = leases.age_s(tag.updated)
    leases.break_lease(names[0], tag.id)
    return (
        f"the job that ran it ({holder}) stopped renewing its lease {seconds:.0f}s ago: "
        "it was killed (OOM, SIGKILL, node loss) or lost the server"
    )


def _status(run_or_step: Any) -> str:
    return str(getattr(run_or_step.status, "value", run_or_step.status))


def _holder(name: str) -> str:
    return name.removeprefix(RUN_LEASE_PREFIX)


def mark_failed(client: Any, run: Any, reason: str) -> None:
    """Mark ``run`` (a hydrated PipelineRunResponse) and its unfinished steps failed, with
    ``reason``. ZenML 0.98 has no public call for a run's status: this wraps its store's
    (tests/integration/test_store.py fails if that changes under it)."""
    from zenml.enums import ExecutionStatus
    from zenml.models import PipelineRunUpdate, StepRunUpdate

    end = datetime.now(UTC).replace(tzinfo=None)
    for step in run.steps.values():
        if _status(step) in UNFINISHED:
            client.zen_store.update_run_step(
                step.id, StepRunUpdate(status=ExecutionStatus.FAILED, end_time=end)
            )
    client.zen_store.update_run(
        run.id,
        PipelineRunUpdate(status=ExecutionStatus.FAILED, status_reason=reason[:250]),
    )
    from zenml import log_metadata

    log_metadata(metadata={"handoff_failure": reason}, run_id_name_or_prefix=run.id)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
