"""What a user could see in a store after a fault, read in one process as JSON:
`python -m tests.faults.state <artifact,names> <pipeline,names> [model]`.

- production: the production version numbers of the model (must be exactly one);
- artifacts: every version visible by name, and whether it loads (a partial one would not);
- runs: each pipeline's runs, newest first, with status and the reason of a failure;
- locks: promotion lock tags still present.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def state(artifacts: list[str], pipelines: list[str], model: str) -> dict[str, Any]:
    from zenml.client import Client
    from zenml.enums import ModelStages

    client = Client()
    try:
        production = [
            v.number
            for v in client.list_model_versions(
                model=model, stage=ModelStages.PRODUCTION, size=50
            ).items
        ]
    except KeyError:
        production = []
    found: dict[str, list[dict[str, Any]]] = {}
    for name in artifacts:
        found[name] = []
        for version in client.list_artifact_versions(artifact=name, size=100).items:
            try:
                version.load()
                error = None
            except Exception as err:  # noqa: BLE001 - what a consumer would hit, reported
                error = f"{type(err).__name__}: {err}"[:200]
            found[name].append({"version": str(version.version), "error": error})
    runs: dict[str, list[dict[str, Any]]] = {}
    for pipeline in pipelines:
        try:
            client.get_pipeline(pipeline)
        except KeyError:
            runs[pipeline] = []
            continue
        runs[pipeline] = [
            {
                "name": run.name,
                "status": str(getattr(run.status, "value", run.status)),
                "reason": run.get_body().status_reason,
            }
            for run in client.list_pipeline_runs(
                pipeline_name=pipeline, sort_by="desc:created", size=50
            ).items
        ]
    locks = [
        t.name for t in client.list_tags(name="startswith:handoff-promotion-lock", size=50).items
    ]
    return {"production": production, "artifacts": found, "runs": runs, "locks": locks}


if __name__ == "__main__":
    names, pipelines = sys.argv[1].split(","), sys.argv[2].split(",")
    model = sys.argv[3] if len(sys.argv) > 3 else "iris_classifier"
    print(json.dumps(state(names, pipelines, model), default=str))
