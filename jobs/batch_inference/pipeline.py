from __future__ import annotations

from zenml import get_pipeline_context, pipeline
from zenml.enums import ExecutionMode

from jobs.batch_inference.params import PartitionRun, Staged
from jobs.batch_inference.steps import commit_predictions


# FAIL_FAST re-raises the step's own exception, so a refused partition ends the job with exit 2.
@pipeline(enable_cache=False, execution_mode=ExecutionMode.FAIL_FAST)
def batch_inference(run: PartitionRun, staged: Staged) -> None:
    # Seed pattern 2, pipeline-level variant: the run is configured with the model version the
    # job resolved from the production stage (pinned by number, so the version checked for
    # existing predictions is the one that scored), and its artifact is resolved here: the
    # predictions' lineage names the model that made them.
    model = get_pipeline_context().model
    assert model is not None, "batch_inference runs with_options(model=...)"
    commit_predictions(model=model.get_model_artifact(run.model_artifact), run=run, staged=staged)
