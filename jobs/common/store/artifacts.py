"""Named artifact versions on the ZenML server: find one, find the newest, register a folder.

A folder written piece by piece (batch inference's parquet parts, its drift picture beside them)
becomes an artifact version through ZenML's public ``save_artifact(uri=...)`` with
:class:`~jobs.common.store.parquet.StagedFolderMaterializer`, whose ``save`` writes nothing: the
rows are already there. Called inside a step, ``save_artifact`` records the version as that
step's output and links it to the step's model version, so the version has a producing pipeline
run like any step output (``ArtifactVersionResponse.producer_pipeline_run_id``).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

Version = Any
"""A ``zenml.models.ArtifactVersionResponse`` (kept out of the signatures: importing ZenML's
models is what ``--help`` must not pay for)."""


def find(name: str, version: str) -> Version | None:
    """The artifact version ``name``/``version``, or None."""
    from zenml.client import Client

    try:
        return Client().get_artifact_version(name_id_or_prefix=name, version=version)
    except KeyError:
        return None


def newest(name: str) -> Version | None:
    """The most recently created version of ``name`` (with its metadata), or None: for a
    predictions artifact, the newest revision of the partition scored last (the rule below)."""
    from zenml.client import Client

    found = Client().list_artifact_versions(artifact=name, sort_by="desc:created", size=1)
    return found.items[0] if found.items else None


def newest_of_partition(name: str, partition: str) -> Version | None:
    """The newest revision of ``partition`` among ``name``'s versions: of those whose metadata
    ``partition`` is ``partition``, the most recently created (whichever model scored it), or
    None. The one rule every reader of "the predictions of a partition" follows: a later
    revision (``jobs.common.data.partitions.version_name``), or the scoring by a newer
    production model, is always created after what it replaces."""
    return next((v for key, v in _newest_per_partition(name) if key == partition), None)


def newest_partitions(name: str, count: int) -> list[Version]:
    """The newest revision (the rule above) of each of the ``count`` partitions scored last."""
    return [version for _, version in islice(_newest_per_partition(name), count)]


def _newest_per_partition(name: str) -> Iterator[tuple[str, Version]]:
    """(partition, its newest revision), newest first: the first version seen per partition
    when walking ``name``'s versions from the most recently created."""
    from zenml.client import Client

    seen: set[str] = set()
    page = 1
    while True:
        found = Client().list_artifact_versions(
            artifact=name, sort_by="desc:created", size=100, page=page, hydrate=True
        )
        for version in found.items:
            partition = str(version.run_metadata.get("partition"))
            if partition not in seen:
                seen.add(partition)
                yield partition, version
        if page >= found.total_pages:
            return
        page += 1


def named_like(name: str, prefix: str) -> list[Version]:
    """``name``'s versions whose version name starts with ``prefix``, oldest first."""
    from zenml.client import Client

    found, page = [], 1
    while True:
        listed = Client().list_artifact_versions(
            artifact=name, version=f"startswith:{prefix}", sort_by="created", size=100, page=page
        )
        # The store's LIKE reads "_" as any character: keep only true prefixes.
        found += [v for v in listed.items if str(v.version).startswith(prefix)]
        if page >= listed.total_pages:
            return found
        page += 1


def store_root() -> str:
    """Where the active stack's artifact store keeps its files."""
    from zenml.client import Client

    return str(Client().active_stack.artifact_store.path)


def register_folder(
    name: str,
    version: str | None,
    folder: str,
    metadata: dict[str, Any],
    tags: list[str] | None = None,
) -> Version | None:
    """Make ``folder`` (parquet parts and, optionally, ``_*.html`` pictures) the artifact
    version ``name``/``version`` (None: ZenML numbers it) with ``metadata`` and ``tags``; None if
    that version exists already (another process registered it first). Inside a step: the
    step's output, on its model version."""
    import pandas as pd
    from zenml import save_artifact
    from zenml.enums import ArtifactType
    from zenml.exceptions import EntityExistsError

    from jobs.common.store.parquet import StagedFolderMaterializer

    try:
        return save_artifact(
            # The data is in the folder already: the materializer writes nothing, so an empty
            # frame stands in for it (and records the type the version loads as).
            pd.DataFrame(),
            name=name,
            version=version,
            artifact_type=ArtifactType.DATA,
            uri=folder,
            materializer=StagedFolderMaterializer,
            user_metadata=metadata,
            tags=tags or None,
        )
    except EntityExistsError:
        return None


def producing_run(found: Version) -> str | None:
    """The id of the pipeline run whose step produced ``found``, if any."""
    run = found.producer_pipeline_run_id
    return None if run is None else str(run)


def step_outputs(run_id: Any, step: str) -> dict[str, list[Version]]:
    """What step ``step`` of pipeline run ``run_id`` produced, by output name: how a job learns
    what its own run made (never "the latest by name", which another run may have moved on)."""
    from zenml.client import Client

    steps = Client().get_pipeline_run(run_id).steps
    if step not in steps:
        return {}
    return {name: list(versions) for name, versions in steps[step].outputs.items()}


def delete_record(version_id: str) -> None:
    """Delete an artifact version's record (its data is the caller's to delete first). ZenML's
    public ``delete_artifact_version`` refuses a version that was ever a step's input or output,
    even once those runs are deleted (their link rows outlive them on SQLite), so this calls its
    store; tests/integration/test_store.py fails if that changes. Gone already: nothing to do."""
    from contextlib import suppress
    from uuid import UUID

    from zenml.client import Client

    with suppress(KeyError):
        Client().zen_store.delete_artifact_version(UUID(version_id))
