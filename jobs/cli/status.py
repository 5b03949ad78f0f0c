"""`handoff status`: what each job left behind, read back from ZenML."""

from __future__ import annotations

from typing import Any

from jobs.common.model_registry import PROMOTION_KEY
from jobs.common.settings import JobSettings

TARGETS = ("local", "docker", "kubernetes")


def report(names: JobSettings) -> list[str]:
    from zenml.client import Client

    client = Client()
    lines = [f"model {names.model_name}"]
    lines.append("  datasets:")
    for artifact in (names.training_dataset, names.testing_dataset):
        versions = client.list_artifact_versions(artifact=artifact, sort_by="desc:created", size=5)
        shown = ", ".join(str(v.version) for v in versions.items) or "none yet"
        lines.append(f"    {artifact}: {shown} (newest first, {versions.total} in all)")

    lines.append("  versions:")
    versions = (
        client.list_model_versions(
            model=names.model_name, sort_by="desc:number", size=20, hydrate=True
        )
        if _model_exists(client, names.model_name)
        else None
    )
    for version in versions.items if versions else []:
        meta = version.run_metadata
        metrics = " ".join(f"{k}={v:.4f}" for k, v in meta.get("metrics", {}).items())
        promotion = meta.get(PROMOTION_KEY, {})
        stage = str(getattr(version.stage, "value", version.stage) or "none")
        lines.append(f"    {version.number:>3}  {stage:<10}  {metrics or 'no metrics'}")
        if promotion:
            lines.append(
                f"         {promotion.get('time', '')} {promotion.get('decided_by')}: "
                f"{promotion.get('reason')}"
            )
    if not versions or not versions.items:
        lines.append("    none yet (run the training job)")

    lines.append("  predictions:")
    # The newest run's output for this dataset: a cached run reuses an older artifact version,
    # so "latest version by name" could name predictions of a retired model.
    predictions = _last_predictions(client, names.predictions_artifact)
    if predictions is None:
        lines.append("    none yet (run the batch-inference job)")
    else:
        output, run_name = predictions
        meta = output.run_metadata
        lines.append(
            f"    {output.name} version {output.version}: {meta.get('rows')} "
            f"rows by model version {meta.get('model_version')} (run {run_name})"
        )

    lines.append("  endpoints:")
    lines += _endpoints(versions.items if versions else [])
    return lines


def _last_predictions(client: Any, name: str) -> tuple[Any, str] | None:
    try:
        pipeline = client.get_pipeline("batch_inference")
    except KeyError:
        return None
    for run in pipeline.get_runs(status="completed", sort_by="desc:created", size=20):
        output = run.steps["predict"].output
        if output.name == name:
            return output, run.name
    return None


def _endpoints(versions: list[Any]) -> list[str]:
    """Per target: the live version, since when, the one it replaced, and what answers now."""
    from jobs.deployment.history import describe, endpoint_states
    from jobs.deployment.targets import served_version

    records = [
        record
        for version in versions
        for target in TARGETS
        if (record := version.run_metadata.get(f"deployment_{target}"))
    ]
    lines = []
    for state in endpoint_states(records):
        answer = served_version(state.endpoint) if state.endpoint else None
        lines += ["    " + line for line in describe(state, answer)]
    return lines or ["    none yet (run the deployment job)"]


def _model_exists(client: Any, name: str) -> bool:
    try:
        client.get_model(name)
    except KeyError:
        return False
    return True
