from __future__ import annotations

from sklearn.base import ClassifierMixin
from zenml import step

from jobs.batch_inference import publish
from jobs.batch_inference.params import PartitionRun


@step(enable_cache=False)
def score_partition(model: ClassifierMixin, run: PartitionRun) -> None:
    """Stream the partition's predictions into the artifact store and register them last
    (the named artifact is this step's output once complete; see ``publish``)."""
    # Per-batch checks beyond the data contract (e.g. drift) go here: scoring.BatchCheck.
    publish.score_once(run, model, checks=[])
