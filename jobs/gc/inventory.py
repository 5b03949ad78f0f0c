"""What is in the ZenML server and the artifact store, read once for the collector (reads only).

The store's file listing is taken first and the registered versions after it, so a version
registered meanwhile is seen as registered: its files are never taken for leftovers.
"""

from __future__ import annotations

from typing import Any

from jobs.common.data import streaming
from jobs.common.runtime.settings import JobSettings
from jobs.common.store import artifacts
from jobs.common.store.model_registry import PROMOTION_KEY
from jobs.gc import retention

COMMIT_LEASE_PREFIX = "handoff-commit-"
PAGE = 200


def take(names: JobSettings) -> retention.Inventory:
    from zenml.client import Client

    client = Client()
    root = artifacts.store_root()
    files = [retention.StoredFile(f.uri, f.size, f.modified) for f in streaming.walk_files(root)]
    everything = _all(client.list_artifact_versions, hydrate=True)
    by_name: dict[str, list[Any]] = {}
    for version in everything:
        by_name.setdefault(version.artifact.name, []).append(version)
    return retention.Inventory(
        root=root,
        # Shadow predictions are kept and deleted by the same rules as the predictions.
        predictions=[
            _version(v)
            for name in (names.predictions_artifact, names.shadow_predictions_artifact)
            for v in by_name.get(name, [])
        ],
        datasets=[
            _version(v)
            for name in (names.training_dataset, names.testing_dataset)
            for v in by_name.get(name, [])
        ],
        models=_models(client, names.model_name),
        registered=[str(v.uri) for v in everything],
        files=files,
        held=_held_commits(client, root),
        areas=frozenset(
            streaming.join(root, name)
            for name in (names.predictions_artifact, names.shadow_predictions_artifact)
        ),
    )


def _version(found: Any) -> retention.Version:
    meta = found.run_metadata
    return retention.Version(
        id=str(found.id),
        name=found.artifact.name,
        version=str(found.version),
        uri=str(found.uri),
        created=found.created,
        run=artifacts.producing_run(found),
        partition=meta.get("partition"),
        model_version=meta.get("model_version"),
    )


def _models(client: Any, model_name: str) -> list[retention.ModelVersion]:
    try:
        client.get_model(model_name)
    except KeyError:
        return []
    found = []
    for version in _all(client.list_model_versions, model=model_name, hydrate=True):
        meta = version.run_metadata
        datasets = meta.get("datasets") or {}
        runs = _all(client.list_pipeline_runs, linked_to_model_version_id=version.id)
        outputs = [
            _version(output)
            for run in runs
            if run.pipeline and run.pipeline.name == "training"
            for step in client.get_pipeline_run(run.id).steps.values()
            for produced in step.outputs.values()
            for output in produced
        ]
        found.append(
            retention.ModelVersion(
                id=str(version.id),
                number=int(version.number),
                stage=str(getattr(version.stage, "value", version.stage) or "") or None,
                created=version.created,
                datasets=tuple(
                    (str(d.get("name")), str(d.get("version")))
                    for d in datasets.values()
                    if isinstance(d, dict)
                ),
                previous_production=(meta.get(PROMOTION_KEY) or {}).get("previous_production"),
                runs=tuple(str(r.id) for r in runs),
                outputs=tuple(outputs),
            )
        )
    return found


def _held_commits(client: Any, root: str) -> frozenset[str]:
    """The version roots whose commit lease is held: a partition being registered now."""
    tags = _all(client.list_tags, name=f"startswith:{COMMIT_LEASE_PREFIX}")
    held = set()
    for tag in tags:
        if ".held-by." in tag.name:
            continue
        artifact_and_version = tag.name.removeprefix(COMMIT_LEASE_PREFIX)
        # The lease names "<artifact>-<version>": every split of it is a candidate root.
        for i, char in enumerate(artifact_and_version):
            if char == "-":
                held.add(
                    streaming.join(
                        streaming.join(root, artifact_and_version[:i]),
                        artifact_and_version[i + 1 :],
                    )
                )
    return frozenset(held)


def _all(listing: Any, **filters: Any) -> list[Any]:
    items, page = [], 1
    while True:
        found = listing(page=page, size=PAGE, **filters)
        items += list(found.items)
        if page >= found.total_pages:
            return items
        page += 1
