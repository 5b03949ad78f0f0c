from __future__ import annotations

from zenml import get_step_context, log_metadata, step

from jobs.gc import collect
from jobs.gc.params import GcParams


@step(enable_cache=False)
def collect_garbage(params: GcParams) -> None:
    """Delete what the rules select; the summary goes on this run (``handoff status``)."""
    summary = collect.apply(params)
    log_metadata(
        metadata={collect.SUMMARY_KEY: summary.model_dump()},
        run_id_name_or_prefix=get_step_context().pipeline_run.id,
    )
