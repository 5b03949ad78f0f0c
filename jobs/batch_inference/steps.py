from __future__ import annotations

from sklearn.base import ClassifierMixin
from zenml import step

from jobs.batch_inference import drift_check, publish
from jobs.batch_inference.params import PartitionRun
from jobs.common.runtime import logs


@step(enable_cache=False)
def score_partition(model: ClassifierMixin, run: PartitionRun) -> None:
    """Stream the partition's predictions into the artifact store and register them last
    (the named artifact is this step's output once complete; see ``publish``)."""
    # Every line logged while scoring says which partition and model version it is about.
    with logs.bound(partition=run.partition, model=run.model_name, version=str(run.model_version)):
        # Per-batch checks beyond the data contract: scoring.BatchCheck.
        publish.score_once(run, model, checks=[drift_check.PartitionDrift(run)])
