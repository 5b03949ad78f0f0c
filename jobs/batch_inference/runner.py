"""A batch inference run from settings to printed lines: which partitions, skip those done,
score the rest oldest first, each in its own pipeline run. ZenML is imported where used."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from jobs.batch_inference import plan, publish, scoring, sharded, shards
from jobs.batch_inference.params import PartitionRun
from jobs.batch_inference.settings import Settings
from jobs.common.quality import drift
from jobs.common.store import stuck_runs
from jobs.common.store.model_registry import require_production

log = logging.getLogger("handoff")


def score_requested(settings: Settings, say: Callable[[str], None] = print) -> int:
    """Score every requested partition that has no predictions by the production model yet
    (with ``shards`` > 1: this pod's shard of each, committed by the last shard to finish)."""
    # Checked before any lookup: a bad index must not wait for the server to say so.
    shard = shards.shard_index(settings.shard, settings.shards, os.environ)
    production = require_production(settings.model_name)
    pinned = settings.model_version
    if pinned and pinned != str(production.number):
        say(
            f"{settings.model_name} version {pinned} is no longer production (version "
            f"{production.number} is); nothing to do"
        )
        return 0
    schema = production.run_metadata.get("feature_schema", {})
    if pinned and plan.is_chained_rescore(settings):
        # Started by training's promotion, not by the schedule: the new model scores the
        # partition the last run scored (the next scheduled run scores the next one).
        newest = publish.newest_partition(settings.predictions_artifact)
        if newest is None:
            say("no partition has been scored yet; the schedule scores the next one")
            return 0
        keys = [newest]
    else:
        keys = plan.requested_keys(settings, scoring.content_key)
    # What the drift check compares each partition with (jobs.common.quality.drift).
    reference = production.run_metadata.get(drift.METADATA_KEY)
    runs = plan.runs(settings, keys, int(production.number), schema, reference)
    done = 0
    for run in runs:
        found = publish.existing(run)
        if found is not None:
            say(
                f"partition {run.partition} already scored by {run.model_name} version "
                f"{run.model_version} ({run.predictions_artifact} version {found.version}): "
                "nothing to do"
            )
            continue
        if settings.shards > 1:
            sharded.score_partition(run, settings.shards, shard, production, say)
            done += 1
            continue
        # Missing input or columns fail here, before a pipeline run or any write.
        scoring.preflight(run)
        _run_pipeline(run)
        published = publish.existing(run)
        rows = published.run_metadata.get("rows") if published is not None else None
        say(
            f"predicted {rows} rows with {run.model_name} version {run.model_version} -> "
            f"{run.predictions_artifact} version {run.version} (partition {run.partition})"
            + (f" and {run.output}" if run.output else "")
        )
        done += 1
    if len(runs) > 1:
        say(f"{done} of {len(runs)} partition(s) scored, {len(runs) - done} already done")
    return 0


def _run_pipeline(run: PartitionRun) -> None:
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
            batch_inference.with_options(
                model=Model(name=run.model_name, version=run.model_version), tags=tags
            )(run=run)
    finally:
        quiet.setLevel(level)
