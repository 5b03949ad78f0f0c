from __future__ import annotations

from zenml import get_pipeline_context, pipeline
from zenml.enums import ExecutionMode

from jobs.batch_inference.params import PartitionRun
from jobs.batch_inference.steps import score_partition


# FAIL_FAST re-raises the step's own exception, so a bad batch ends the job with exit 2.
@pipeline(enable_cache=False, execution_mode=ExecutionMode.FAIL_FAST)
def batch_inference(run: PartitionRun) -> None:
    # Seed pattern 2, pipeline-level variant: the run is configured with the model version the
    # plan resolved from the production stage (pinned by number, so the version checked for
    # existing predictions is the one that scores), and the model artifact is resolved here.
    model = get_pipeline_context().model
    score_partition(model=model.get_model_artifact(run.model_artifact), run=run)
