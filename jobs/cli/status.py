"""`handoff status`: what each job left behind, read back from ZenML.

:func:`collect` reads it once into plain data (what ``handoff status --json`` prints, described
by ``status.schema.json`` beside this module); :func:`render` turns the same data into the text
view, so the two can never say different things.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from jobs.common.quality import realized
from jobs.common.runtime.settings import JobSettings
from jobs.common.store import artifacts
from jobs.common.store.model_registry import PROMOTION_KEY
from jobs.common.store.stuck_runs import fail_dead_runs

log = logging.getLogger("handoff")
SCHEMA = Path(__file__).with_name("status.schema.json")
PIPELINES = (
    "feature_engineering",
    "training",
    "batch_inference",
    "deployment",
    "gc",
    "monitoring",
)
CHANGED_CHECKED = 3
"""Status compares the input of this many partitions (those scored last) with what they were
scored from: one listing each, so ``handoff status`` stays quick."""
STALE_CHECKED = 10
"""Status looks for partitions scored by an older model than production among this many, the
partitions scored last (one listing of the predictions, so ``handoff status`` stays quick)."""
GC_PIPELINE, GC_SUMMARY_KEY = "gc", "gc"
"""The collector's pipeline and the metadata key of its summary (jobs/gc/collect.py)."""


def collect(names: JobSettings) -> dict[str, Any]:
    from zenml.client import Client

    client = Client()
    # Asked for status, nothing may show as running that nothing runs.
    failed = [run for p in PIPELINES for run in fail_dead_runs(p, "handoff status")]
    datasets = []
    for artifact in (names.training_dataset, names.testing_dataset):
        found = client.list_artifact_versions(artifact=artifact, sort_by="desc:created", size=5)
        datasets.append(
            {
                "name": artifact,
                "newest": [str(v.version) for v in found.items],
                "total": found.total,
            }
        )

    versions = (
        client.list_model_versions(
            model=names.model_name, sort_by="desc:number", size=20, hydrate=True
        ).items
        if _model_exists(client, names.model_name)
        else []
    )
    # The predictions of the partitions scored last, each its newest revision (the one rule,
    # jobs.common.store.artifacts.newest_of_partition).
    newest = artifacts.newest_partitions(names.predictions_artifact, CHANGED_CHECKED)
    return {
        "model": names.model_name,
        "datasets": datasets,
        "versions": [_version(v) for v in versions],
        "predictions": _predictions(client, newest[0] if newest else None),
        "changed_inputs": _changed_inputs(newest),
        "stale": _stale(versions, names.predictions_artifact),
        "catch_up": _catch_up(versions, names.predictions_artifact),
        "shards": _shards(names.predictions_artifact),
        "endpoints": _endpoints(versions),
        "failed_runs": [
            {"pipeline": run.pipeline, "run": run.run, "reason": run.reason} for run in failed
        ],
        "gc": _gc(client),
        "realized": realized.status(
            names.predictions_artifact, versions, names.shadow_predictions_artifact
        ),
    }


def _gc(client: Any) -> dict[str, Any] | None:
    """The summary the last completed ``handoff gc --apply`` left on its run."""
    try:
        client.get_pipeline(GC_PIPELINE)
    except KeyError:
        return None
    runs = client.list_pipeline_runs(
        pipeline_name=GC_PIPELINE, status="completed", sort_by="desc:created", size=1, hydrate=True
    )
    if not runs.items:
        return None
    summary = runs.items[0].run_metadata.get(GC_SUMMARY_KEY) or {}
    if not summary:
        return None
    return {
        "time": str(summary.get("time", "")),
        "deleted": {str(k): int(v) for k, v in (summary.get("deleted") or {}).items()},
        "bytes": int(summary.get("bytes", 0)),
        "store_bytes": int(summary.get("store_bytes", 0)),
        "run": runs.items[0].name,
    }


def _version(version: Any) -> dict[str, Any]:
    meta = version.run_metadata
    promotion = meta.get(PROMOTION_KEY) or None
    return {
        "number": int(version.number),
        "stage": str(getattr(version.stage, "value", version.stage) or "") or None,
        "metrics": {k: float(v) for k, v in meta.get("metrics", {}).items()},
        "promotion": None
        if promotion is None
        else {
            "time": promotion.get("time"),
            "decided_by": promotion.get("decided_by"),
            "reason": promotion.get("reason"),
        },
    }


def _predictions(client: Any, output: Any) -> dict[str, Any] | None:
    # One version per (partition, model version, input), registered only once complete.
    if output is None:
        return None
    meta = output.run_metadata
    drift = meta.get("drift") or None
    run = output.producer_pipeline_run_id
    return {
        "name": output.name,
        "version": str(output.version),
        "rows": meta.get("rows"),
        "model_version": meta.get("model_version"),
        "partition": meta.get("partition"),
        "run": client.get_pipeline_run(run).name if run else "",
        "drifted_features": None if drift is None else list(drift.get("drifted", [])),
        "revision": int(meta.get("revision") or 1),
        "revision_reason": meta.get("revision_reason"),
    }


def _changed_inputs(newest: list[Any]) -> list[dict[str, Any]]:
    """Of the partitions scored last (only those: one listing of its input each), those whose
    input is not what their newest revision was scored from: the next run for them revises."""
    from jobs.common.data import streaming

    changed = []
    for version in newest:
        meta = version.run_metadata
        recorded = meta.get("input") or {}
        if not recorded.get("identity"):
            continue  # the built-in table, which never changes
        try:
            now = streaming.landed(str(recorded.get("uri")))
        except Exception as err:  # noqa: BLE001 - an unreadable input must not hide the rest
            log.warning("cannot read the input of %s: %s", version.version, err)
            continue
        if now is None or now.identity == recorded["identity"]:
            continue
        changed.append(
            {
                "partition": str(meta.get("partition")),
                "version": str(version.version),
                "scored_files": int(recorded.get("files") or 0),
                "files": len(now.files),
                "scored_bytes": int(recorded.get("bytes") or 0),
                "bytes": now.size,
            }
        )
    return changed


def _stale(versions: list[Any], artifact: str) -> dict[str, Any] | None:
    """Of the ``STALE_CHECKED`` partitions scored last, those whose newest revision a model
    version older than production scored (after a promotion): ``handoff backfill
    batch-inference --from A --to B --model-version <production>`` re-scores them. None
    without a production version."""
    production = next((v for v in versions if _version(v)["stage"] == "production"), None)
    if production is None:
        return None
    number = int(production.number)
    older = []
    for version in artifacts.newest_partitions(artifact, STALE_CHECKED):
        meta = version.run_metadata
        scored_by = str(meta.get("model_version", ""))
        if scored_by.isdigit() and int(scored_by) < number:
            older.append(
                {
                    "partition": str(meta.get("partition")),
                    "version": str(version.version),
                    "model_version": int(scored_by),
                }
            )
    return {"production": number, "checked": STALE_CHECKED, "partitions": older}


def _catch_up(versions: list[Any], artifact: str) -> dict[str, Any] | None:
    """What the last scheduled batch-inference run recorded (on the production model version it
    used): its window and the partitions that had not landed, less those scored since."""
    from jobs.batch_inference.protocol import CATCH_UP_KEY, scored

    notes = [v.run_metadata.get(CATCH_UP_KEY) for v in versions]
    found = [note for note in notes if isinstance(note, dict) and note.get("time")]
    if not found:
        return None
    note = max(found, key=lambda n: str(n["time"]))
    waiting = [str(k) for k in note.get("not_landed") or []]
    return {
        "time": str(note["time"]),
        "job": str(note.get("job") or ""),
        "partition": str(note.get("partition") or ""),
        "window": [str(k) for k in note.get("window") or []],
        "not_landed": [k for k in waiting if not scored(artifact, k)],
    }


def _shards(artifact: str) -> dict[str, Any] | None:
    """For the newest partition scored by shards (an Indexed Job): how many are done."""
    from jobs.batch_inference.protocol import progress

    try:
        return progress(artifact)
    except Exception as err:  # noqa: BLE001 - the store may be unreachable; status still shows
        log.warning("cannot read the shards of %s from the artifact store: %s", artifact, err)
        return None


def _endpoints(versions: list[Any]) -> list[dict[str, Any]]:
    """Per target: the live version, since when, the one it replaced, and what answers now."""
    from jobs.deployment.record import endpoint_states, records_in
    from jobs.deployment.targets.endpoint import served_version

    records = [record for version in versions for record in records_in(version.run_metadata)]
    return [
        {
            **dataclasses.asdict(state),
            "answering": served_version(state.endpoint) if state.endpoint else None,
        }
        for state in endpoint_states(records)
    ]


def render(status: dict[str, Any]) -> list[str]:
    from jobs.deployment.record import EndpointState, describe

    lines = [f"model {status['model']}", "  datasets:"]
    for dataset in status["datasets"]:
        shown = ", ".join(dataset["newest"]) or "none yet"
        lines.append(f"    {dataset['name']}: {shown} (newest first, {dataset['total']} in all)")

    lines.append("  versions:")
    for version in status["versions"]:
        metrics = " ".join(f"{k}={v:.4f}" for k, v in version["metrics"].items())
        stage = version["stage"] or "none"
        lines.append(f"    {version['number']:>3}  {stage:<10}  {metrics or 'no metrics'}")
        if promotion := version["promotion"]:
            lines.append(
                f"         {promotion['time'] or ''} {promotion['decided_by']}: "
                f"{promotion['reason']}"
            )
    if not status["versions"]:
        lines.append("    none yet (run the training job)")

    lines.append("  predictions:")
    predictions = status["predictions"]
    if predictions is None:
        lines.append("    none yet (run the batch-inference job)")
    else:
        partition = f" partition {predictions['partition']}" if predictions["partition"] else ""
        lines.append(
            f"    {predictions['name']} version {predictions['version']}{partition}: "
            f"{predictions['rows']} rows by model version {predictions['model_version']}"
            + (f" (run {predictions['run']})" if predictions["run"] else "")
        )
        if predictions.get("revision", 1) > 1:
            lines.append(
                f"    revision {predictions['revision']}: {predictions['revision_reason']}"
            )
        drifted = predictions["drifted_features"]
        if drifted is not None:
            lines.append(
                "    drift: " + (", ".join(drifted) + " drifted" if drifted else "none detected")
            )

    if shards := status.get("shards"):
        missing = ", ".join(str(i) for i in shards["missing"])
        lines.append(
            f"    shards of partition {shards['partition']} ({shards['version']}): "
            f"{shards['done']} of {shards['shards']} done"
            + (", committed" if shards["committed"] else "")
            + (f", waiting for shard(s) {missing}" if missing else "")
        )

    for changed in status.get("changed_inputs") or []:
        lines.append(
            f"    input changed since scored: partition {changed['partition']} "
            f"({changed['version']}): {changed['files']} file(s), {changed['bytes']} bytes; was "
            f"{changed['scored_files']} file(s), {changed['scored_bytes']} bytes — the next run "
            "for it scores a new revision"
        )
    if (stale := status.get("stale")) and stale["partitions"]:
        keys = sorted(p["partition"] for p in stale["partitions"])
        lines.append(
            f"    scored by a model older than production (version {stale['production']}), of "
            f"the {stale['checked']} partitions scored last: "
            + ", ".join(
                f"{p['partition']} (version {p['model_version']})"
                for p in sorted(stale["partitions"], key=lambda p: p["partition"])
            )
            + f" — re-score them: handoff backfill batch-inference --from {keys[0]} --to "
            f"{keys[-1]} --model-version {stale['production']}"
        )
    if catch_up := status.get("catch_up"):
        waiting = ", ".join(catch_up["not_landed"])
        lines.append(
            f"    catch-up (scheduled run {catch_up['job']} at {catch_up['time']}, partition "
            f"{catch_up['partition']}): "
            + (
                f"not landed yet: {waiting}; the next scheduled run scores them"
                if waiting
                else "nothing missing"
            )
        )
    lines += realized.describe(status.get("realized"))
    if status.get("failed_runs"):
        lines.append("  runs left running by a dead job, now marked failed:")
        lines += [f"    {r['pipeline']} {r['run']}: {r['reason']}" for r in status["failed_runs"]]
    lines.append("  storage:")
    if gc := status.get("gc"):
        removed = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in gc["deleted"].items() if n)
        lines.append(
            f"    {gc['store_bytes'] - gc['bytes']} bytes in the artifact store after the last "
            f"gc ({gc['time']}), which removed {removed or 'nothing'}: {gc['bytes']} bytes"
        )
    else:
        lines.append("    no gc has run (handoff gc lists what it would delete)")
    lines.append("  endpoints:")
    for endpoint in status["endpoints"]:
        state = EndpointState(**{k: v for k, v in endpoint.items() if k != "answering"})
        lines += ["    " + line for line in describe(state, endpoint["answering"])]
    if not status["endpoints"]:
        lines.append("    none yet (run the deployment job)")
    return lines


def _model_exists(client: Any, name: str) -> bool:
    try:
        client.get_model(name)
    except KeyError:
        return False
    return True
