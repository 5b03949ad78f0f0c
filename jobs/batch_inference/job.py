"""The batch inference job: which partitions, skip those done, score the rest oldest first
(``protocol``: this pod's shard of each, committed once by whoever completes it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from jobs.batch_inference import plan, protocol, scoring, shards
from jobs.batch_inference.params import PartitionRun, Staged
from jobs.batch_inference.settings import Settings
from jobs.common.data import partitions
from jobs.common.quality import drift, realized
from jobs.common.runtime.connection import connect
from jobs.common.runtime.errors import BadInput
from jobs.common.store import artifacts, model_registry, stuck_runs
from jobs.common.store.model_registry import require_production

log = logging.getLogger("handoff")


def run(settings: Settings, say: Callable[[str], None] = print) -> int:
    """Score every requested partition that has no predictions by the production model from
    its input as it is now; a scheduled run also catches up its window."""
    # Checked before any lookup: a bad index must not wait for the server to say so.
    shard = shards.shard_index(settings.shard, settings.shards, os.environ)
    connect()
    production = require_production(settings.model_name)
    pinned = settings.model_version
    if pinned and pinned != str(production.number) and plan.is_explicit(settings):
        raise BadInput(
            f"--model-version {pinned}: {settings.model_name} version {pinned} is not production "
            f"(version {production.number} is); partitions are scored, and re-scored on purpose, "
            f"by the production model only: --model-version {production.number}"
        )
    if pinned and pinned != str(production.number):
        say(
            f"{settings.model_name} version {pinned} is no longer production (version "
            f"{production.number} is); nothing to do"
        )
        return 0
    if pinned and plan.is_chained_rescore(settings):
        # Started by training's promotion, not by the schedule: the new model scores the
        # partition the last run scored (the next scheduled run scores the next one).
        newest = artifacts.newest(settings.predictions_artifact)
        if newest is None:
            say("no partition has been scored yet; the schedule scores the next one")
            return 0
        keys = [str(newest.run_metadata.get("partition"))]
    else:
        keys = plan.requested_keys(settings, scoring.content_key)
    scheduled = plan.is_scheduled(settings)
    window = plan.catch_up_window(settings, keys[-1]) if scheduled else []
    unscored = [k for k in window if not protocol.scored(settings.predictions_artifact, k)]
    runs = _runs(settings, unscored + keys, production)
    challenger = _challenger(settings, production, say)
    # What each model was trained on, read once: a partition not newer is look-ahead for it.
    trained = realized.trained_on(production.run_metadata)
    shadow_trained = None if challenger is None else realized.trained_on(challenger.run_metadata)
    done, waiting = 0, []
    for partition in runs:
        found = scoring.landed_input(partition.input) if scheduled else None
        if scheduled and found is None:
            waiting.append(partition.partition)
            continue
        found = found or scoring.open_input(partition.input)
        done += _score(settings, partition, production, trained, found, shard, say)
        if challenger is not None:
            [shadow] = _runs(settings, [partition.partition], challenger, production.number)
            _score(settings, shadow, challenger, shadow_trained, found, shard, say)
    if scheduled:
        _report_gaps(settings, production, keys[-1], window, waiting, say)
    if len(runs) > 1:
        already = len(runs) - done - len(waiting)
        missing = f", {len(waiting)} not landed yet" if waiting else ""
        say(f"{done} of {len(runs)} partition(s) scored, {already} already done{missing}")
    return 0


def _runs(
    settings: Settings, keys: list[str], model: Any, shadow_of: int | None = None
) -> list[PartitionRun]:
    """The runs of ``keys`` by ``model`` (a model version), checked against what it recorded:
    its feature schema, its schema and the reference statistics the drift check compares with
    (``jobs.common.quality.drift``)."""
    meta = model.run_metadata
    return plan.runs(
        settings,
        keys,
        int(model.number),
        meta.get("feature_schema", {}),
        meta.get(drift.METADATA_KEY),
        meta.get("schema"),
        shadow_of=None if shadow_of is None else int(shadow_of),
    )


def _challenger(settings: Settings, production: Any, say: Callable[[str], None]) -> Any:
    """With ``shadow``, the newest staging version (it shadows production), else None."""
    if not settings.shadow:
        return None
    challenger = model_registry.newest_staging(settings.model_name)
    if challenger is None:
        say(f"shadow: {settings.model_name} has no staging version; nothing is shadow-scored")
    else:
        say(
            f"shadow: {settings.model_name} version {challenger.number} (staging) also scores "
            f"each partition into {settings.shadow_predictions_artifact}, beside version "
            f"{production.number} (production)"
        )
    return challenger


def _score(
    settings: Settings,
    partition: PartitionRun,
    model: Any,
    trained: realized.TrainedOn | None,
    found: scoring.Input,
    shard: int | None,
    say: Callable[[str], None],
) -> bool:
    """Score ``partition`` with ``model`` (a model version, trained on ``trained``) unless that
    model scored it from this input already; a changed input makes the next revision. Whether
    it scored."""
    scored = artifacts.named_like(
        partition.predictions_artifact, partitions.version_prefix(partition.partition)
    )
    latest = plan.latest_revision(partition, [(str(v.version), v.run_metadata) for v in scored])
    if plan.is_current(latest, found.description.get("identity")):
        assert latest is not None
        say(
            f"partition {partition.partition} already scored by {partition.model_name} "
            f"version {partition.model_version} ({partition.predictions_artifact} version "
            f"{latest.version}), from its input as it is now: nothing to do"
        )
        return False
    if latest is not None:
        rows = shards.input_rows(found.layout())
        partition = plan.revised(partition, latest, found.description, rows)
    start = plan.start_of(settings, partition.partition)
    if ahead := realized.look_ahead(partition.partition, start, trained):
        say(f"look-ahead, marked on its predictions: {ahead}")
        partition = partition.model_copy(update={"look_ahead": ahead})
    protocol.score_partition(partition, settings.shards, shard, model, say, commit, found)
    return True


def _report_gaps(
    settings: Settings,
    production: Any,
    own: str,
    window: list[str],
    waiting: list[str],
    say: Callable[[str], None],
) -> None:
    """Say which partitions have not landed, and record it on the production model version
    (key ``catch_up``) where ``handoff status`` shows it: a gap is never silent."""
    if own in waiting:
        later = (
            "the next scheduled run catches it up (catch_up)"
            if settings.catch_up
            else "catch_up is 0: score it with --partition once it lands"
        )
        say(f"partition {own} has not landed yet; {later}")
    earlier = [key for key in waiting if key != own]
    if earlier:
        say(
            f"catch-up: {len(earlier)} of the {len(window)} partition(s) before {own} have not "
            f"landed either: {', '.join(earlier)}"
        )
    model_registry.record(
        settings.model_name,
        production.number,
        protocol.CATCH_UP_KEY,
        {
            "time": model_registry.now(),
            "job": settings.job_name or settings.scheduled_time,
            "partition": own,
            "window": window,
            "not_landed": waiting,
        },
    )


def commit(partition: PartitionRun, staged: Staged) -> artifacts.Version | None:
    """The commit as a pipeline run; what its step registered (None: another pod had)."""
    from zenml import Model

    from jobs.batch_inference.pipeline import batch_inference

    # A failing step re-raises its own error, which the job turns into one line and an exit
    # code; ZenML's orchestrator would also print the traceback (kept for HANDOFF_LOG_LEVEL=DEBUG).
    quiet = logging.getLogger("zenml.orchestrators")
    level = quiet.level
    if not log.isEnabledFor(logging.DEBUG):
        quiet.setLevel(logging.CRITICAL)
    try:
        with stuck_runs.running("batch_inference") as tags:
            pipeline_run = batch_inference.with_options(
                model=Model(name=partition.model_name, version=partition.model_version),
                tags=tags,
            )(run=partition, staged=staged)
    finally:
        quiet.setLevel(level)
    assert pipeline_run is not None, "a pipeline run on the local orchestrator returns its run"
    outputs = artifacts.step_outputs(pipeline_run.id, protocol.COMMIT_STEP)
    made = outputs.get(partition.predictions_artifact, [])
    return made[0] if made else None
