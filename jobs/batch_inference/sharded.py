"""A partition scored by N pods (an Indexed Job), registered once by the last to finish.

Every shard of (partition, model version) writes into one staging folder of the artifact store,
``<store>/<artifact>/<version>/shards-<N>-<input identity>/`` (so a different N or a changed
input never mixes with these parts): its part, then its marker (``jobs.batch_inference.shards``).
Then it reads the markers. If all N are there and their rows add up to the input's (from the
parquet footers), the partition is complete and this shard commits: under a lease on the ZenML
server (``jobs.common.store.leases``) it checks again that no version is registered and registers
the folder as ``<artifact>`` version ``<partition>_model_<n>`` — one request,
whichever shard is last; two shards finishing at once wait for the lease
and the loser finds the version registered. A
shard that finishes while others are still missing exits 0: its part is done, the last commits.

Drift is judged once, on the whole partition: each shard leaves its drift state beside its part
(before its marker), and the committing shard merges them, records the summary and picture, and
with ``drift: fail`` refuses to register (``partition_drift``).

A run with ``--shards N`` and no shard (neither ``--shard`` nor ``JOB_COMPLETION_INDEX``) is an
explicit commit attempt: incomplete → exit 3 naming the missing shards, nothing registered.

Shards run no ZenML pipeline: N pipeline runs per partition would load the server N-fold for no
lineage a single registration does not record (the predictions link to the model version).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.batch_inference import drift_check, publish, scoring, shards
from jobs.batch_inference.params import PartitionRun
from jobs.common.data import streaming
from jobs.common.runtime import logs
from jobs.common.runtime.errors import BadInput, PreconditionNotMet, Unavailable

log = logging.getLogger("handoff")
COMMIT_WAIT_S = 300.0
FOLDER_PREFIX = "shards-"


@dataclass(frozen=True)
class Staging:
    """Where the N shards of one (partition, model version) leave their parts and markers."""

    folder: str
    shards: int
    expected_rows: int | None
    shares: list[shards.Share]
    input: dict[str, Any]


def staging(run: PartitionRun, count: int) -> Staging:
    if run.input == scoring.BUILTIN_IRIS:
        raise BadInput("the built-in iris input is one small table; it cannot be sharded")
    if run.output:
        raise BadInput(
            "output (a single-file copy) is not written by sharded runs; read the predictions "
            "artifact (a folder of parquet parts) instead, or drop --shards"
        )
    source = streaming.locate(run.input)
    layout = streaming.layout_of(source)
    folder = streaming.join(
        publish.attempts_root(run), f"{FOLDER_PREFIX}{count}-{source.identity[:12]}"
    )
    return Staging(
        folder=folder,
        shards=count,
        expected_rows=shards.input_rows(layout),
        shares=shards.split(layout, count),
        input=source.describe(),
    )


def score_shard(run: PartitionRun, stage: Staging, shard: int, model: Any) -> int | None:
    """Write shard ``shard``'s part, then its marker; its rows, or None if it was done already."""
    marker = streaming.join(stage.folder, shards.marker(shard, stage.shards))
    if shard in shards.done_shards(streaming.list_names(stage.folder), stage.shards):
        return None
    share = stage.shares[shard]
    drifts = drift_check.ShardDrift(run, shard)
    # Its own part only, rewritten whole: a killed earlier attempt's partial part is replaced.
    scored = scoring.score(
        run,
        model,
        stage.folder,
        checks=[drifts],
        in_artifact_store=True,
        pieces=share.pieces,
        part=shards.part(shard),
        allow_empty=True,
    )
    if share.rows is not None and scored.rows != share.rows:
        raise Unavailable(
            f"shard {shard} read {scored.rows} rows where its footers say {share.rows}; "
            "did the input change meanwhile?"
        )
    state = drifts.state()
    if state is not None:
        uri = streaming.join(stage.folder, drift_check.state_name(shard, stage.shards))
        with streaming.open_file(uri, "wb", through_store=True) as handle:
            handle.write(state)
    with streaming.open_file(marker, "wb", through_store=True) as handle:
        handle.write(shards.marker_text(shard, stage.shards, scored.rows, share).encode())
    return scored.rows


def partition_drift(run: PartitionRun, stage: Staging) -> tuple[dict[str, Any], str | None]:
    """The whole partition's drift from its shards' states, judged as one pod would judge it
    (``drift: fail`` raises ``BadInput``: exit 2, nothing registered): the summary for the
    predictions' metadata and the picture's URI (None when drift is not checked)."""
    drifts = drift_check.PartitionDrift(run)
    if drifts.accumulator is None:
        drifts.summary()  # says why drift is not checked, if it should have been
        return {}, None
    names = set(streaming.list_names(stage.folder))
    missing = [
        i for i in range(stage.shards) if drift_check.state_name(i, stage.shards) not in names
    ]
    if missing:
        log.warning(
            "drift not recorded: shard(s) %s left no drift state in %s",
            ", ".join(map(str, missing)),
            stage.folder,
        )
        return {}, None
    for shard in range(stage.shards):
        uri = streaming.join(stage.folder, drift_check.state_name(shard, stage.shards))
        with streaming.open_file(uri, "rb", through_store=True) as handle:
            drifts.merge(handle.read())
    summaries = drifts.summary()
    return summaries, drift_check.write_picture(
        run, stage.folder, summaries, in_artifact_store=True
    )


def completeness(stage: Staging) -> shards.Completeness:
    done = shards.done_shards(streaming.list_names(stage.folder), stage.shards)
    texts = {}
    for shard in done:
        uri = streaming.join(stage.folder, shards.marker(shard, stage.shards))
        with streaming.open_file(uri, "rb", through_store=True) as handle:
            texts[shard] = handle.read().decode()
    return shards.completeness(texts, stage.shards, stage.expected_rows)


def commit(
    run: PartitionRun, stage: Staging, state: shards.Completeness, model_version: Any
) -> bool:
    """Register the complete folder once; False if another shard registered it first."""
    from jobs.common.store import leases

    name = f"handoff-commit-{run.predictions_artifact}-{run.version}"
    observed = leases.Observations()
    deadline = time.monotonic() + COMMIT_WAIT_S
    while (lease := leases.try_acquire(name, observed)) is None:
        if publish.existing(run) is not None:
            return False
        if time.monotonic() > deadline:
            raise Unavailable(
                f"{leases.current_holder(name) or 'another shard'} has held the commit of "
                f"{run.predictions_artifact} version {run.version} for over "
                f"{COMMIT_WAIT_S:.0f}s (tag {name})"
            )
        time.sleep(0.2 + random.random() * 0.5)
    try:
        if publish.existing(run) is not None:
            return False
        summaries, picture = partition_drift(run, stage)
        scored = scoring.Scored(rows=state.total, input=stage.input, summaries=summaries)
        registered = publish.register(
            run,
            stage.folder,
            scored,
            picture,
            extra={"shards": stage.shards},
            model_version=model_version,
        )
    finally:
        lease.release()
    if registered is None:
        return False
    publish.remove_other_attempts(run, stage.folder)
    return True


def score_partition(
    run: PartitionRun,
    count: int,
    shard: int | None,
    model_version: Any,
    say: Callable[[str], None],
) -> None:
    """Score this pod's shard of ``run`` (if it has one), then commit if all shards are done."""
    stage = staging(run, count)
    what = f"{run.predictions_artifact} version {run.version} (partition {run.partition})"
    if shard is not None:
        model = model_version.get_model_artifact(run.model_artifact).load()
        with logs.bound(partition=run.partition, shard=f"{shard}/{count}"):
            rows = score_shard(run, stage, shard, model)
        if rows is None:
            say(f"shard {shard} of {count} of partition {run.partition} was already done")
        else:
            say(
                f"shard {shard} of {count}: predicted {rows} rows with {run.model_name} version "
                f"{run.model_version} (partition {run.partition})"
            )
    state = completeness(stage)
    if not state.complete:
        if shard is None:
            raise PreconditionNotMet(state.refusal(f"cannot commit {what}"))
        if state.missing:
            waiting = ", ".join(str(i) for i in state.missing)
            say(f"{len(state.rows)} of {count} shards done; shard(s) {waiting} still to finish")
            return
        raise PreconditionNotMet(state.refusal(f"cannot commit {what}"))
    if commit(run, stage, state, model_version):
        say(f"committed {state.total} rows of {count} shards -> {what}")
    else:
        say(f"{what} was already committed by another shard")


def progress(artifact: str) -> dict[str, Any] | None:
    """How many shards of the newest (partition, model version) folder are done, read off the
    markers in the artifact store; None when the newest was not sharded."""
    from zenml.client import Client

    root = streaming.join(str(Client().active_stack.artifact_store.path), artifact)
    versions = sorted(streaming.list_names(root), key=_partition_order, reverse=True)
    if not versions:
        return None
    folder = streaming.join(root, versions[0])
    stages = sorted(n for n in streaming.list_names(folder) if n.startswith(FOLDER_PREFIX))
    if not stages:
        return None
    count = int(stages[-1].removeprefix(FOLDER_PREFIX).split("-", 1)[0])
    done = shards.done_shards(streaming.list_names(streaming.join(folder, stages[-1])), count)
    try:
        Client().get_artifact_version(name_id_or_prefix=artifact, version=versions[0])
        committed = True
    except KeyError:
        committed = False
    return {
        "partition": versions[0].rsplit("_model_", 1)[0],
        "version": versions[0],
        "shards": count,
        "done": len(done),
        "missing": [i for i in range(count) if i not in done],
        "committed": committed,
    }


def _partition_order(version: str) -> tuple[str, int]:
    partition, _, model = version.rpartition("_model_")
    return (partition, int(model) if model.isdigit() else -1)
