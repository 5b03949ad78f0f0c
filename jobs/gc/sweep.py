"""Carry out one deletion: its data first, then its records, the artifact version last.

So no record outlives a failed data deletion (a failure stops before any record goes), and a
``gc`` killed between the two leaves a record whose data is gone, which the rerun, selecting it
by the same rules, deletes: it reruns to the same end. Each step tolerates what is already gone
(``KeyError``: deleted by the killed run).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any
from uuid import UUID

from jobs.common.data import streaming
from jobs.common.store import artifacts
from jobs.gc.retention import Deletion


def execute(deletion: Deletion) -> None:
    from zenml.client import Client

    client = Client()
    root = artifacts.store_root()
    for uri in deletion.uris:
        streaming.remove_tree(uri, strict=True)
        streaming.remove_empty_parents(uri, root)
    for run in deletion.runs:
        _delete_run(client, run)
    for version in deletion.versions:
        artifacts.delete_record(version)
    if deletion.model_version is not None:
        with suppress(KeyError):
            client.delete_model_version(UUID(deletion.model_version))


def _delete_run(client: Any, run_id: str) -> None:
    """A pipeline run's record, after its log files (ZenML's own, in the artifact store)."""
    try:
        run = client.get_pipeline_run(run_id, hydrate=True)
    except KeyError:
        return
    logs = [*(run.log_collection or [])]
    for step in run.steps.values():
        logs += [*(getattr(step, "log_collection", None) or [])]
    for entry in logs:
        if entry.uri:
            streaming.remove_tree(str(entry.uri), strict=True)
    with suppress(KeyError):
        client.delete_pipeline_run(run_id)
