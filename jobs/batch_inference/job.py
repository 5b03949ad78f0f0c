"""The batch inference job: which partitions, skip those done, score the rest oldest first
(``protocol``: this pod's shard of each, committed once by whoever completes it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from jobs.batch_inference import plan, protocol, scoring, shards
from jobs.batch_inference.params import PartitionRun, Staged
from jobs.batch_inference.settings import Settings
from jobs.common.quality import drift
from jobs.common.runtime.connection import connect
from jobs.common.store import artifacts, stuck_runs
from jobs.common.store.model_registry import require_production

log = logging.getLogger("handoff")


def run(settings: Settings, say: Callable[[str], None] = print) -> int:
    """Score every requested partition that has no predictions by the production model yet."""
    # Checked before any lookup: a bad index must not wait for the server to say so.
    shard = shards.shard_index(settings.shard, settings.shards, os.environ)
    connect()
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
        newest = artifacts.newest(settings.predictions_artifact)
        if newest is None:
            say("no partition has been scored yet; the schedule scores the next one")
            return 0
        keys = [str(newest.run_metadata.get("partition"))]
    else:
        keys = plan.requested_keys(settings, scoring.content_key)
    # What the drift check compares each partition with (jobs.common.quality.drift).
    reference = production.run_metadata.get(drift.METADATA_KEY)
    recorded = production.run_metadata.get("schema")
    runs = plan.runs(settings, keys, int(production.number), schema, reference, recorded)
    done = 0
    for partition in runs:
        found = artifacts.find(partition.predictions_artifact, partition.version)
        if found is not None:
            say(
                f"partition {partition.partition} already scored by {partition.model_name} "
                f"version {partition.model_version} ({partition.predictions_artifact} version "
                f"{found.version}): nothing to do"
            )
            continue
        protocol.score_partition(partition, settings.shards, shard, production, say, commit)
        done += 1
    if len(runs) > 1:
        say(f"{done} of {len(runs)} partition(s) scored, {len(runs) - done} already done")
    return 0


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
