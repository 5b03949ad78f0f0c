"""Event chaining: a job that has new work for the next jobs starts them, pinned to that work.

Feature engineering that published a dataset version starts training on exactly that version;
training that promoted a model version to production starts batch inference (on the partition
the last run scored, resolved here once so that every shard of an Indexed Job scores the same
one) and deployment for exactly that model version, as monitoring does when it promoted a
shadow challenger on live labels. The hooks call ``start_next`` only after
success (and, in training, only after a promotion), so nothing starts after a failure. Which
jobs follow is each job's own ``downstream`` setting.

Every start has a name derived from the upstream job and version, so starting the same thing
twice (a retried upstream, a repeated call) starts it once: in a cluster that name is the Job's
(AlreadyExists = already started), locally the event file's.

Where starts go is the environment's choice, ``HANDOFF_CHAIN_VIA``:

- ``kubernetes``: create a Job from the downstream CronJob's ``jobTemplate`` through the
  Kubernetes API (``kubernetes.py``); a suspended CronJob gets none (the operator's kill
  switch), and a failed or suspended start is an Event on the upstream's Job;
- a directory: write one JSON event per start there (``events.py``); ``handoff chain`` runs
  each as its own process;
- unset: start nothing (a job run by hand) and say so.

A start that fails never fails the upstream, whose work is done and recorded: it is one log
line, an Event, and a count in the upstream run's metadata (``chaining``); the downstream
CronJob's schedule is the fallback, and a scheduled training run whose datasets production was
already trained on does nothing (``fallback_done``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BeforeValidator

from jobs.common.chaining.events import EventLauncher, read_events
from jobs.common.chaining.kubernetes import KubernetesLauncher
from jobs.common.chaining.starts import (
    CRONJOB_PREFIX,
    FOLLOWERS,
    LABEL,
    Outcome,
    Start,
    Upstream,
    cronjob_name,
    job_from_cronjob,
    start_name,
)

__all__ = [
    "CRONJOB_PREFIX",
    "FOLLOWERS",
    "KUBERNETES",
    "LABEL",
    "METADATA_KEY",
    "VIA_ENV",
    "Downstream",
    "EventLauncher",
    "KubernetesLauncher",
    "Launcher",
    "Outcome",
    "Start",
    "Upstream",
    "after_datasets",
    "after_promotion",
    "after_training",
    "cronjob_name",
    "fallback_done",
    "job_from_cronjob",
    "read_events",
    "start_name",
    "start_next",
]

log = logging.getLogger("handoff")

VIA_ENV = "HANDOFF_CHAIN_VIA"
KUBERNETES = "kubernetes"
# The upstream run's metadata key for what became of its starts.
METADATA_KEY = "chaining"


def _split(value: object) -> object:
    """``training,deployment`` (env, flag, flat ConfigMap) or a YAML list; empty = none."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _known(jobs: list[str]) -> list[str]:
    known = sorted({job for followers in FOLLOWERS.values() for job in followers})
    unknown = [job for job in jobs if job not in known]
    if unknown:
        raise ValueError(f"cannot start {', '.join(unknown)}; jobs that can be started: {known}")
    return jobs


Downstream = Annotated[list[str], BeforeValidator(_split), AfterValidator(_known)]
"""The settings type of a job's ``downstream`` key: the jobs it starts when it has new work."""


class Launcher(Protocol):
    def start(self, start: Start) -> Outcome:
        """Start it, or say why not (already started, suspended); raise when it failed."""
        ...

    def where(self) -> str: ...

    def report(self, start: Start, outcome: Outcome, line: str) -> None:
        """Tell the platform about a start that failed or was refused (best effort)."""
        ...


Record = Callable[[Upstream, Mapping[str, str]], None]
"""Keeps what became of each start (job -> outcome line) with the upstream run."""


def launcher_from_environment() -> Launcher | None:
    via = os.environ.get(VIA_ENV, "")
    if not via:
        return None
    if via == KUBERNETES:
        return KubernetesLauncher.from_environment()
    return EventLauncher(Path(via))


def record_on_run(upstream: Upstream, outcomes: Mapping[str, str]) -> None:
    """The outcomes and the number of failed starts, as metadata of the upstream pipeline run
    (the dashboard and ``handoff status`` show it; a failure count above 0 is worth an alert)."""
    from zenml import log_metadata

    failures = sum(1 for line in outcomes.values() if line.startswith(Outcome.FAILED.value))
    log_metadata(
        metadata={METADATA_KEY: {"starts": dict(outcomes), "failures": failures}},
        run_id_name_or_prefix=upstream.run,
    )


def start_next(
    downstream: Sequence[str],
    upstream: Upstream,
    launcher: Launcher | None = None,
    *,
    record: Record | None = None,
    pins_by_job: Mapping[str, Mapping[str, str]] | None = None,
    **pins: str,
) -> list[str]:
    """Start each downstream job pinned to ``pins`` (plus its own ``pins_by_job``); one line per
    job, also printed or logged, and the outcomes recorded with the upstream run.

    A job that cannot be started is reported, not raised: the upstream's own work is done and
    recorded, a retry of it would redo that work, and the downstream CronJob's schedule is the
    fallback.
    """
    if not downstream:
        return []
    try:
        launcher = launcher or launcher_from_environment()
    except Exception as err:  # e.g. no usable kubeconfig: the same as a failed start, see above
        log.debug("no launcher", exc_info=True)
        lines = {job: _failed(job, upstream, err) for job in downstream}
        _keep(record, upstream, lines)
        return list(lines.values())
    if launcher is None:
        line = f"chaining is off ({VIA_ENV} unset): not starting {', '.join(downstream)}"
        log.info(line)
        return [line]
    lines = {}
    for job in downstream:
        start = Start(job, upstream, {**pins, **(pins_by_job or {}).get(job, {})})
        outcome, lines[job] = _start(launcher, start)
        if outcome in (Outcome.FAILED, Outcome.SUSPENDED):
            try:
                launcher.report(start, outcome, lines[job])
            except Exception as err:  # noqa: BLE001 - the line is said either way
                log.warning("could not report %s of %s: %s", outcome.value, start.name, err)
    _keep(record, upstream, lines)
    return list(lines.values())


def _start(launcher: Launcher, start: Start) -> tuple[Outcome, str]:
    try:
        outcome = launcher.start(start)
    except Exception as err:  # any failure to start is reported, see start_next
        log.debug("starting %s failed", start.name, exc_info=True)
        return Outcome.FAILED, _failed(start.job, start.upstream, err)
    what = f"{start.job} for {start.upstream.job} version {start.upstream.version}"
    if outcome is Outcome.SUSPENDED:
        line = (
            f"suspended: not starting {what}: {cronjob_name(start.job)} is suspended (resume "
            "it to let chained starts through)"
        )
        log.warning(line)
        return outcome, line
    line = f"{outcome.value} {what} as {start.name} ({launcher.where()}): {' '.join(start.args)}"
    print(line, flush=True)
    return outcome, line


def _failed(job: str, upstream: Upstream, err: Exception) -> str:
    line = (
        f"{Outcome.FAILED.value}: could not start {job} for {upstream.job} version "
        f"{upstream.version} ({type(err).__name__}: {err}); the schedule of {cronjob_name(job)} "
        "is the fallback"
    )
    log.error(line)
    return line


def _keep(record: Record | None, upstream: Upstream, lines: Mapping[str, str]) -> None:
    try:
        (record or record_on_run)(upstream, lines)
    except Exception as err:  # noqa: BLE001 - the lines were said; the run's work stays done
        log.warning("could not record the chained starts on run %s: %s", upstream.run, err)


# --- The hooks the jobs call (one line each) ---------------------------------------------------


def after_datasets(
    downstream: Sequence[str], run: str, train: str, test: str, *, record: Record | None = None
) -> list[str]:
    """Feature engineering published ``train`` and ``test``: train on exactly those."""
    upstream = Upstream("feature-engineering", train, run)
    return start_next(downstream, upstream, record=record, train_version=train, test_version=test)


def after_training(
    downstream: Sequence[str],
    run: str,
    version: str,
    stage: str,
    *,
    predictions: str | None = None,
    record: Record | None = None,
) -> list[str]:
    """Training finished with model ``version`` in ``stage``: only a promotion starts anything
    (:func:`after_promotion`)."""
    if stage != "production":
        if downstream:
            print(f"not starting {', '.join(downstream)}: version {version} is in {stage}")
        return []
    upstream = Upstream("training", version, run)
    return after_promotion(downstream, upstream, predictions=predictions, record=record)


def after_promotion(
    downstream: Sequence[str],
    upstream: Upstream,
    *,
    predictions: str | None = None,
    record: Record | None = None,
) -> list[str]:
    """``upstream`` promoted model version ``upstream.version`` to production (training on its
    testing dataset, monitoring on live labels): start what follows, pinned to that version.

    With ``predictions`` (batch inference's predictions artifact), batch inference is pinned to
    the partition its newest predictions are of, resolved once here: each shard of an Indexed
    Job resolving "the newest" itself could pick another one if a commit came between their
    starts. No partition scored yet: started unpinned, as before.
    """
    by_job: dict[str, dict[str, str]] = {}
    if predictions and "batch-inference" in downstream:
        partition = newest_scored_partition(predictions)
        # Nothing scored yet: started unpinned, batch inference scores an input without
        # {partition} (iris, a file: `handoff chain` on a new store) and, for a partitioned one,
        # has nothing to rescore (its schedule scores the next partition).
        if partition is not None:
            by_job["batch-inference"] = {"partition": partition}
    return start_next(
        downstream, upstream, record=record, pins_by_job=by_job, model_version=upstream.version
    )


def newest_scored_partition(predictions: str) -> str | None:
    """The partition of the newest registered predictions (of any revision), if any."""
    from jobs.common.store import artifacts

    found = artifacts.newest(predictions)
    partition = found.run_metadata.get("partition") if found is not None else None
    return None if partition is None else str(partition)


def redundant_training(
    production: Mapping[str, Any] | None, training: Mapping[str, str], testing: Mapping[str, str]
) -> bool:
    """Production (its run metadata) was trained and tested on exactly these dataset versions."""
    datasets = (production or {}).get("datasets") or {}
    return datasets.get("training") == dict(training) and datasets.get("testing") == dict(testing)


def fallback_done(
    model_name: str, training: Mapping[str, str], testing: Mapping[str, str], pinned: bool
) -> str | None:
    """Why an unpinned training run (training's schedule, the fallback) has nothing to do, or
    None: feature engineering's chained start is still at work, or already trained on these
    datasets — production or, when it did not beat production, the newest version (staging).
    Without this, the night feature engineering starts training, the schedule trains again on
    the same datasets and, ties promoting, rolls out an identical version (or leaves a second
    identical challenger). A pinned run (a chained start, or ``--train-version`` by hand)
    always trains."""
    if pinned:
        return None
    from jobs.common.store import stuck_runs
    from jobs.common.store.model_registry import newest_version, production_version

    # A chained start still at work when the schedule fires (a long training past 03:00): it
    # promotes and starts what follows itself; a second run would train on the same datasets.
    if running := stuck_runs.live_runs("training"):
        return (
            f"training run {running[0]} is still at work (its job renews its lease): it "
            "promotes and starts what follows itself; nothing to do"
        )

    for version in (production_version(model_name), newest_version(model_name)):
        if version is not None and redundant_training(
            dict(version.run_metadata), training, testing
        ):
            stage = getattr(version.stage, "value", version.stage) or "no stage"
            return (
                f"{model_name} version {version.number} ({stage}) was trained on "
                f"{training['name']}:{training['version']} and tested on "
                f"{testing['name']}:{testing['version']} already; nothing to do (pass "
                "--train-version to train on them again)"
            )
    return None


def production_to_deploy(
    model_name: str, pinned: str | None, idle_without_production: bool
) -> Any:  # a zenml ModelVersionResponse, or None
    """The production version to deploy, or None (said why) when there is nothing to do: no
    production version and ``idle_without_production`` (the scheduled fallback), or a ``pinned``
    version (a chained start) that is no longer production — its successor's own start deploys
    that one."""
    from jobs.common.store.model_registry import production_version, require_production

    if idle_without_production and production_version(model_name) is None:
        print(f"{model_name} has no production version yet; nothing to deploy")
        return None
    production = require_production(model_name)
    if pinned and pinned != str(production.number):
        print(
            f"{model_name} version {pinned} is no longer production (version "
            f"{production.number} is); nothing to do"
        )
        return None
    return production
