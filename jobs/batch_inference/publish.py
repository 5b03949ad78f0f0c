"""Exactly once per (partition, model version): stage, then register last.

Each attempt streams its predictions into its own folder under the artifact store,
``<store>/<artifact>/<version>/<attempt>/part-*.parquet``. Nothing is visible by
name until the artifact version ``<artifact>`` / ``<partition>_model_<n>`` is registered,
pointing at that folder — one request to the ZenML server, made only once every row is
written. A killed or failed attempt leaves an unregistered folder at most, which the next
attempt for the same version removes; a second attempt racing the first loses on the
version name (the server refuses a duplicate) and throws its own folder away.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobs.batch_inference import drift_check, scoring
from jobs.batch_inference.params import PartitionRun
from jobs.common.data import streaming

log = logging.getLogger("handoff")


@dataclass(frozen=True)
class Published:
    version: str
    rows: int | None
    uri: str
    scored_now: bool
    """False when the predictions already existed (nothing was written)."""


def existing(run: PartitionRun) -> Any | None:
    """The registered predictions of (partition, model version), if any."""
    from zenml.client import Client

    try:
        return Client().get_artifact_version(
            name_id_or_prefix=run.predictions_artifact, version=run.version
        )
    except KeyError:
        return None


def newest_partition(artifact: str) -> str | None:
    """The partition of the newest registered predictions, if any."""
    from zenml.client import Client

    found = Client().list_artifact_versions(
        artifact=artifact, sort_by="desc:created", size=1, hydrate=True
    )
    return str(found.items[0].run_metadata.get("partition")) if found.items else None


def attempts_root(run: PartitionRun) -> str:
    from zenml.client import Client

    store = Client().active_stack.artifact_store.path
    return streaming.join(streaming.join(str(store), run.predictions_artifact), run.version)


def score_once(
    run: PartitionRun, model: Any, checks: Sequence[scoring.BatchCheck] = ()
) -> Published:
    """Score ``run`` unless its predictions exist; the predictions are visible only complete."""
    found = existing(run)
    if found is not None:
        return _published(found, scored_now=False)
    root = attempts_root(run)
    folder = streaming.join(root, uuid.uuid4().hex)
    try:
        scored = scoring.score(run, model, folder, checks, in_artifact_store=True)
        picture = drift_check.write_picture(run, folder, scored.summaries, in_artifact_store=True)
        registered = register(run, folder, scored, picture)
    except BaseException:
        streaming.remove_tree(folder)
        if not streaming.list_folders(root):
            streaming.remove_tree(root)
        raise
    if registered is None:  # another attempt registered it first
        streaming.remove_tree(folder)
        found = existing(run)
        return _published(found, scored_now=False)
    remove_other_attempts(run, folder)
    return _published(registered, scored_now=True)


def remove_other_attempts(run: PartitionRun, kept: str) -> None:
    """Once ``kept`` is registered: the folders of earlier, unfinished attempts go."""
    for other in streaming.list_folders(attempts_root(run)):
        if other.rstrip("/").rsplit("/", 1)[-1] != kept.rstrip("/").rsplit("/", 1)[-1]:
            log.info("removing the folder of an earlier, unfinished attempt: %s", other)
            streaming.remove_tree(other)


def metadata(
    run: PartitionRun, scored: scoring.Scored, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    entries = {
        **scored.summaries,
        **(extra or {}),
        "partition": run.partition,
        "model_name": run.model_name,
        "model_version": str(run.model_version),
        "rows": scored.rows,
        "input": scored.input,
        "output": run.output,
        "id_columns": list(run.id_columns),
        "probabilities": run.probabilities,
    }
    return {key: value for key, value in entries.items() if value is not None}


def register(
    run: PartitionRun,
    folder: str,
    scored: scoring.Scored,
    picture: str | None = None,
    extra: dict[str, Any] | None = None,
    model_version: Any = None,
) -> Any | None:
    """Make the folder the artifact version, with ``picture`` (HTML) as its visualization;
    None if that version exists already. Outside a step, ``model_version`` (a zenml
    ModelVersionResponse) is the model version it is linked to."""
    import pandas as pd
    from zenml.client import Client
    from zenml.enums import ArtifactSaveType, ArtifactType, VisualizationType
    from zenml.exceptions import EntityExistsError
    from zenml.metadata.metadata_types import validate_metadata
    from zenml.models import ArtifactVersionRequest, ArtifactVisualizationRequest
    from zenml.utils import source_utils

    from jobs.common.store.parquet import DataFrameParquetMaterializer

    client = Client()
    request = ArtifactVersionRequest(
        artifact_name=run.predictions_artifact,
        version=run.version,
        type=ArtifactType.DATA,
        save_type=ArtifactSaveType.MANUAL,
        uri=folder,
        materializer=source_utils.resolve(DataFrameParquetMaterializer),
        data_type=source_utils.resolve(pd.DataFrame),
        project=client.active_project.id,
        artifact_store_id=client.active_stack.artifact_store.id,
        has_custom_name=True,
        metadata=validate_metadata(metadata(run, scored, extra)),
        visualizations=[ArtifactVisualizationRequest(type=VisualizationType.HTML, uri=picture)]
        if picture
        else None,
    )
    try:
        version = client.zen_store.create_artifact_version(artifact_version=request)
    except EntityExistsError:
        return None
    _link_to_step_and_model(version, model_version)
    return version


def _link_to_step_and_model(version: Any, model_version: Any = None) -> None:
    """The predictions show as the scoring step's output and on the model version."""
    from zenml import get_step_context
    from zenml.client import Client
    from zenml.model.utils import link_artifact_version_to_model_version
    from zenml.models import StepRunUpdate

    try:
        context = get_step_context()
    except RuntimeError:
        if model_version is not None:
            link_artifact_version_to_model_version(
                artifact_version=version, model_version=model_version
            )
        return
    Client().zen_store.update_run_step(
        step_run_id=context.step_run.id,
        step_run_update=StepRunUpdate(outputs={version.artifact.name: [version.id]}),
    )
    if context.model_version:
        link_artifact_version_to_model_version(
            artifact_version=version, model_version=context.model_version
        )


def _published(version: Any, scored_now: bool) -> Published:
    return Published(
        version=str(version.version),
        rows=version.run_metadata.get("rows"),
        uri=str(version.uri),
        scored_now=scored_now,
    )
