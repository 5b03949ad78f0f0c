"""Read a ZenML store's state as JSON, from a subprocess with a job's environment.

Tests run jobs as separate processes and must not share ZenML's in-process global config with
them, so they look at the results the same way: `python -m tests.harness.probe <what> <name>`.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def artifacts(name: str) -> list[dict[str, Any]]:
    from zenml.client import Client

    versions = Client().list_artifact_versions(
        artifact=name, sort_by="asc:created", size=100, hydrate=True
    )
    return [
        {
            "version": str(v.version),
            "uri": v.uri,
            "tags": sorted(t.name for t in v.tags),
            "metadata": v.run_metadata,
            "materializer": v.materializer.attribute,
            "producer": _producer(v),
        }
        for v in versions.items
    ]


def _producer(version: Any) -> dict[str, str] | None:
    """The pipeline run whose step produced the version (None for one saved outside a step)."""
    from zenml.client import Client

    if version.producer_pipeline_run_id is None:
        return None
    run = Client().get_pipeline_run(version.producer_pipeline_run_id, hydrate=True)
    return {"run": str(run.id), "pipeline": run.pipeline.name if run.pipeline else ""}


def models(name: str) -> list[dict[str, Any]]:
    from zenml.client import Client

    try:
        Client().get_model(name)
    except KeyError:
        return []
    versions = Client().list_model_versions(
        model=name, sort_by="asc:number", size=100, hydrate=True
    )
    return [
        {
            "number": v.number,
            "stage": str(getattr(v.stage, "value", v.stage)),
            "metadata": v.run_metadata,
        }
        for v in versions.items
    ]


def last_output(pipeline_and_step: str) -> list[dict[str, Any]]:
    """The output of a step in the newest run of a pipeline (cached runs reuse old versions)."""
    from zenml.client import Client

    pipeline, step = pipeline_and_step.split(":")
    run = Client().get_pipeline(pipeline).last_run
    output = run.steps[step].output
    return [
        {
            "version": str(output.version),
            "name": output.name,
            "metadata": output.run_metadata,
            "cached": str(run.steps[step].status),
        }
    ]


def table(name_and_version: str) -> list[dict[str, Any]]:
    """An artifact version loaded through its materializer, as records."""
    from zenml.client import Client

    # Imported first: ZenML puts this script's folder (tests/harness, with its own jobs.py) at
    # the front of sys.path before importing the materializer's module.
    import jobs.common.store.parquet  # noqa: F401 - see above

    name, version = name_and_version.split(":")
    frame = Client().get_artifact_version(name_id_or_prefix=name, version=version).load()
    return frame.to_dict(orient="records")


def loads(_: str) -> list[dict[str, Any]]:
    """Every artifact version in the job's stack's artifact store, loaded: what failed, and why."""
    from zenml.client import Client

    import jobs.common.store.parquet  # noqa: F401 - as in table()
    from jobs.common.runtime.connection import connect
    from jobs.common.store import artifacts

    connect()
    root = artifacts.store_root()
    found = []
    for version in Client().list_artifact_versions(size=1000).items:
        if not str(version.uri).startswith(root):
            continue
        try:
            version.load()
            error = None
        except Exception as err:  # noqa: BLE001 - the probe reports it
            error = f"{type(err).__name__}: {err}"
        found.append(
            {"name": version.artifact.name, "version": str(version.version), "error": error}
        )
    return found


def store_files(_: str) -> list[dict[str, Any]]:
    """Every file in the job's stack's artifact store, and the URIs of every version there."""
    from zenml.client import Client

    from jobs.common.data import streaming
    from jobs.common.runtime.connection import connect
    from jobs.common.store import artifacts

    connect()
    root = artifacts.store_root()
    files = [{"uri": f.uri, "size": f.size} for f in streaming.walk_files(root)]
    uris = [str(v.uri) for v in Client().list_artifact_versions(size=1000).items]
    return [{"root": root, "files": files, "registered": [u for u in uris if u.startswith(root)]}]


def predict(model_version_dataset: str) -> list[Any]:
    """What training's evaluation predicts: ``<model>:<number>:<dataset>:<version>`` — the
    version's trained_model applied to that dataset's rows without the target, as the
    evaluation step applies it."""
    from zenml.client import Client

    import jobs.common.store.parquet  # noqa: F401 - see table()

    model, number, dataset, version = model_version_dataset.split(":")
    found = Client().get_model_version(model, int(number))
    rows = Client().get_artifact_version(name_id_or_prefix=dataset, version=version).load()
    target = found.run_metadata["target_column"]
    pipeline = found.get_model_artifact("trained_model").load()
    return [
        p.item() if hasattr(p, "item") else p for p in pipeline.predict(rows.drop(columns=[target]))
    ]


def stacks(_: str) -> list[dict[str, Any]]:
    from zenml.client import Client

    return [
        {
            "name": s.name,
            "components": {str(k.value): [c.name for c in v] for k, v in s.components.items()},
        }
        for s in Client().list_stacks(size=100, hydrate=True).items
    ]


def components(kind: str) -> list[dict[str, Any]]:
    from zenml.client import Client

    return [
        {"name": c.name, "flavor": c.flavor_name, "configuration": c.configuration}
        for c in Client().list_stack_components(type=kind, size=100, hydrate=True).items
    ]


if __name__ == "__main__":
    what, name = sys.argv[1], sys.argv[2]
    print(
        json.dumps(
            {
                "artifacts": artifacts,
                "last_output": last_output,
                "models": models,
                "table": table,
                "predict": predict,
                "stacks": stacks,
                "components": components,
                "loads": loads,
                "store_files": store_files,
            }[what](name),
            default=str,
        )
    )
