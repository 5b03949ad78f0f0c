from __future__ import annotations

from zenml import step
from zenml.artifacts.unmaterialized_artifact import UnmaterializedArtifact

from jobs.batch_inference import protocol
from jobs.batch_inference.params import PartitionRun, Staged
from jobs.common.runtime import logs


@step(enable_cache=False)
def commit_predictions(model: UnmaterializedArtifact, run: PartitionRun, staged: Staged) -> None:
    """Register the staged predictions as this step's output, once (``protocol.commit``).
    ``model`` is the scoring model's artifact, an input for lineage only: never loaded here."""
    with logs.bound(partition=run.partition, model=run.model_name, version=str(run.model_version)):
        protocol.commit(run, staged)
