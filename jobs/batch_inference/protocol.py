"""Exactly once per (partition, model version), by one pod or N: stage, mark, commit once.

Every batch inference run is N shards of a partition, N = 1 by default (an Indexed Job's pods
for N > 1). All N write into one staging folder of the artifact store,
``<store>/<artifact>/<version>/shards-<N>-<input identity>/`` (a different N or a changed input
never mixes with these parts). Each shard writes its part, its drift state, then — last — its
marker (``jobs.batch_inference.shards``); a killed shard leaves no marker and its retry rewrites
its part whole. Then it reads the markers: when all N are there and their rows add up to the
input's (from the parquet footers), the partition is complete and this pod commits.

The commit is a ZenML pipeline run (``batch_inference``) whatever N is, so every predictions
version has the same lineage: the model version's artifact in, the predictions out. Its one step,
under a lease on the ZenML server (``jobs.common.store.leases``), checks that no version is
registered yet, merges the shards' drift states and judges the whole partition (``drift: fail``:
exit 2, nothing registered), and registers the folder as ``<artifact>`` version
``<partition>_model_<n>`` — one request (``jobs.common.store.artifacts``). Two pods finishing at
once wait for the lease; the loser finds the version registered. Nothing is visible by name until
then. A shard that finishes while others are missing exits 0: the last one commits.

A run with ``--shards N`` (N > 1) and no shard (neither ``--shard`` nor ``JOB_COMPLETION_INDEX``)
only tries to commit: incomplete → exit 3 naming the missing shards, nothing registered.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.batch_inference import drift_check, scoring, shards
from jobs.batch_inference.params import PartitionRun, Staged
from jobs.common.data import partitions, streaming
from jobs.common.runtime import logs
from jobs.common.runtime.errors import BadInput, PreconditionNotMet, Unavailable
from jobs.common.store import artifacts

log = logging.getLogger("handoff")
COMMIT_WAIT_S = 300.0
FOLDER_PREFIX = "shards-"
COMMIT_STEP = "commit_predictions"
CATCH_UP_KEY = "catch_up"
"""The production model version's record of the last scheduled run's gaps (handoff status)."""


@dataclass(frozen=True)
class Staging:
    """Where the N shards of one (partition, model version) leave their parts and markers."""

    staged: Staged
    shares: list[shards.Share]
    found: scoring.Input


def version_root(run: PartitionRun) -> str:
    return streaming.join(
        streaming.join(artifacts.store_root(), run.predictions_artifact), run.version
    )


def staging(run: PartitionRun, count: int, found: scoring.Input | None = None) -> Staging:
    """Where ``run``'s shards go; ``found``: its input, if the caller opened it already."""
    if run.output and count > 1:
        raise BadInput(
            "output (a single-file copy) is written by one pod only; read the predictions "
            "artifact (a folder of parquet parts) instead, or drop --shards"
        )
    found = found or scoring.open_input(run.input)
    if found.source is None and count > 1:
        raise BadInput("the built-in iris input is one small table; it cannot be sharded")
    layout = found.layout()
    folder = streaming.join(version_root(run), f"{FOLDER_PREFIX}{count}-{found.identity[:12]}")
    staged = Staged(
        folder=folder,
        shards=count,
        expected_rows=shards.input_rows(layout),
        input=found.description,
    )
    return Staging(staged=staged, shares=shards.split(layout, count), found=found)


def score_shard(run: PartitionRun, stage: Staging, shard: int, model: Any) -> int | None:
    """Write shard ``shard``'s part, its drift state, then its marker; its rows, or None if it
    was done already. A failed shard takes its part away again: a bad input leaves nothing."""
    staged = stage.staged
    if shard in shards.done_shards(streaming.list_names(staged.folder), staged.shards):
        return None
    share = stage.shares[shard]
    # One pod scoring the whole partition judges its drift before the output copy is in place
    # (``drift: fail`` leaves no copy); N shards leave it to the commit (one pod's verdict).
    drifts = drift_check.ShardDrift(run, shard, judge=staged.shards == 1)
    written = [shards.part(shard), drift_check.state_name(shard, staged.shards)]
    try:
        scored = scoring.score(
            run,
            model,
            staged.folder,
            stage.found,
            checks=[drifts],
            in_artifact_store=True,
            pieces=share.pieces,
            part=shards.part(shard),
            allow_empty=staged.shards > 1,
        )
        if share.rows is not None and scored.rows != share.rows:
            raise Unavailable(
                f"shard {shard} read {scored.rows} rows where its footers say {share.rows}; "
                "did the input change meanwhile?"
            )
        state = drifts.state()
        if state is not None:
            _write(streaming.join(staged.folder, written[1]), state)
    except BaseException:
        for name in written:
            streaming.remove_tree(streaming.join(staged.folder, name))
        _remove_if_empty(staged.folder, version_root(run))
        raise
    text = shards.marker_text(shard, staged.shards, scored.rows, share)
    _write(streaming.join(staged.folder, shards.marker(shard, staged.shards)), text.encode())
    return scored.rows


def completeness(staged: Staged) -> shards.Completeness:
    done = shards.done_shards(streaming.list_names(staged.folder), staged.shards)
    texts = {}
    for shard in done:
        uri = streaming.join(staged.folder, shards.marker(shard, staged.shards))
        with streaming.open_file(uri, "rb", through_store=True) as handle:
            texts[shard] = handle.read().decode()
    return shards.completeness(texts, staged.shards, staged.expected_rows)


def partition_drift(run: PartitionRun, staged: Staged) -> dict[str, Any]:
    """The whole partition's drift from its shards' states, judged as one pod would judge it
    (``drift: fail`` raises ``BadInput``: exit 2, nothing registered), its picture written
    beside the parts; the summary for the predictions' metadata (empty when unchecked)."""
    drifts = drift_check.PartitionDrift(run)
    if not drifts.active:
        drifts.summary()  # says why drift is not checked, if it should have been
        return {}
    names = set(streaming.list_names(staged.folder))
    missing = [
        i for i in range(staged.shards) if drift_check.state_name(i, staged.shards) not in names
    ]
    if missing:
        log.warning(
            "drift not recorded: shard(s) %s left no drift state in %s",
            ", ".join(map(str, missing)),
            staged.folder,
        )
        return {}
    for shard in range(staged.shards):
        uri = streaming.join(staged.folder, drift_check.state_name(shard, staged.shards))
        with streaming.open_file(uri, "rb", through_store=True) as handle:
            drifts.merge(handle.read())
    summaries = drifts.summary()
    drift_check.write_picture(run, staged.folder, summaries)
    return summaries


def metadata(run: PartitionRun, staged: Staged, rows: int, summaries: dict[str, Any]) -> dict:
    """What the predictions version records: the partition, the model, the input's identity."""
    entries = {
        **summaries,
        "partition": run.partition,
        "model_name": run.model_name,
        "model_version": str(run.model_version),
        "rows": rows,
        "input": staged.input,
        "output": run.output,
        "id_columns": list(run.id_columns),
        "probabilities": run.probabilities,
        "shards": staged.shards,
        "revision": run.revision,
        "revision_reason": run.revision_reason,
        "look_ahead": True if run.look_ahead else None,
        "look_ahead_reason": run.look_ahead,
        "shadow_of": None if run.shadow_of is None else str(run.shadow_of),
    }
    return {key: value for key, value in entries.items() if value is not None}


def commit(run: PartitionRun, staged: Staged) -> artifacts.Version | None:
    """Register the complete folder once (the body of the pipeline's step); None if another
    pod registered it first."""
    from jobs.common.store import leases

    name = f"handoff-commit-{run.predictions_artifact}-{run.version}"
    observed = leases.Observations()
    deadline = time.monotonic() + COMMIT_WAIT_S
    while (lease := leases.try_acquire(name, observed)) is None:
        if artifacts.find(run.predictions_artifact, run.version) is not None:
            return None
        if time.monotonic() > deadline:
            raise Unavailable(
                f"{leases.current_holder(name) or 'another pod'} has held the commit of "
                f"{run.predictions_artifact} version {run.version} for over "
                f"{COMMIT_WAIT_S:.0f}s (tag {name})"
            )
        time.sleep(0.2 + random.random() * 0.5)
    try:
        if artifacts.find(run.predictions_artifact, run.version) is not None:
            return None
        state = completeness(staged)
        if not state.complete:  # a marker went away meanwhile: nothing half-registered
            raise PreconditionNotMet(state.refusal(f"cannot commit {describe(run)}"))
        summaries = partition_drift(run, staged)
        registered = artifacts.register_folder(
            run.predictions_artifact,
            run.version,
            staged.folder,
            metadata(run, staged, state.total, summaries),
        )
    finally:
        lease.release()
    if registered is not None:
        remove_other_attempts(run, staged.folder)
    return registered


def remove_other_attempts(run: PartitionRun, kept: str) -> None:
    """Once ``kept`` is registered: staging folders of other splits or inputs go."""
    for other in streaming.list_folders(version_root(run)):
        if _name(other) != _name(kept):
            log.info("removing the folder of an earlier, unfinished attempt: %s", other)
            streaming.remove_tree(other)


def describe(run: PartitionRun) -> str:
    return f"{run.predictions_artifact} version {run.version} (partition {run.partition})"


def score_partition(
    run: PartitionRun,
    count: int,
    shard: int | None,
    model_version: Any,
    say: Callable[[str], None],
    commit_run: Callable[[PartitionRun, Staged], artifacts.Version | None],
    found: scoring.Input | None = None,
) -> None:
    """Score this pod's shard of ``run`` (if it has one), then commit if all shards are done
    (``commit_run``: the pipeline run whose step calls :func:`commit`; ``found``: the input,
    if opened already)."""
    stage = staging(run, count, found)
    what = describe(run)
    rows = None
    if shard is not None:
        model = model_version.get_model_artifact(run.model_artifact).load()
        with logs.bound(partition=run.partition, shard=f"{shard}/{count}"):
            rows = score_shard(run, stage, shard, model)
        if rows is None:
            say(f"shard {shard} of {count} of partition {run.partition} was already done")
        elif count > 1:
            say(
                f"shard {shard} of {count}: predicted {rows} rows with {run.model_name} version "
                f"{run.model_version} (partition {run.partition})"
            )
    state = completeness(stage.staged)
    if not state.complete:
        if shard is not None and state.missing:
            waiting = ", ".join(str(i) for i in state.missing)
            say(f"{len(state.rows)} of {count} shards done; shard(s) {waiting} still to finish")
            return
        raise PreconditionNotMet(state.refusal(f"cannot commit {what}"))
    registered = commit_run(run, stage.staged)
    if registered is None:
        say(f"{what} was already committed by another shard")
    elif count > 1:
        say(f"committed {state.total} rows of {count} shards -> {what}")
    else:
        say(
            f"predicted {state.total} rows with {run.model_name} version {run.model_version} -> "
            f"{run.predictions_artifact} version {run.version} (partition {run.partition})"
            + (f" and {run.output}" if run.output else "")
        )
    if registered is not None and run.revision > 1:
        say(f"revision {run.revision} of partition {run.partition}: {run.revision_reason}")


def scored(artifact: str, partition: str) -> bool:
    """Whether any model version has scored ``partition`` (any revision)."""
    return bool(artifacts.named_like(artifact, partitions.version_prefix(partition)))


def progress(artifact: str) -> dict[str, Any] | None:
    """How many shards of the newest (partition, model version) staging folder are done, read
    off the markers in the artifact store; None when nothing was staged yet."""
    root = streaming.join(artifacts.store_root(), artifact)
    versions = sorted(streaming.list_names(root), key=_partition_order, reverse=True)
    if not versions:
        return None
    folder = streaming.join(root, versions[0])
    stages = sorted(n for n in streaming.list_names(folder) if n.startswith(FOLDER_PREFIX))
    if not stages:
        return None
    count = int(stages[-1].removeprefix(FOLDER_PREFIX).split("-", 1)[0])
    done = shards.done_shards(streaming.list_names(streaming.join(folder, stages[-1])), count)
    return {
        "partition": versions[0].rsplit("_model_", 1)[0],
        "version": versions[0],
        "shards": count,
        "done": len(done),
        "missing": [i for i in range(count) if i not in done],
        "committed": artifacts.find(artifact, versions[0]) is not None,
    }


def _write(uri: str, data: bytes) -> None:
    with streaming.open_file(uri, "wb", through_store=True) as handle:
        handle.write(data)


def _remove_if_empty(*folders: str) -> None:
    for folder in folders:
        if not streaming.list_names(folder):
            streaming.remove_tree(folder)


def _name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _partition_order(version: str) -> tuple[str, int, int]:
    parsed = partitions.parse_version(version)
    if parsed is None:
        return (version, -1, -1)
    return (parsed.stem, parsed.model_version, parsed.revision)
